// A pipeline that carries its schedule (docs/WORKER.md, "Schedules"): every worker that loads this
// module keeps the schedule in the database (one row however many start; updated when the
// definition changes; removed when it no longer carries one), and queues each tick's run once.
//
//   npm run build && orbit --pipelines examples/scheduled-pipeline.js worker
//   orbit schedule list        (… from the definition)
const { definePipeline } = require('orbit-pipeline');

module.exports = [
  definePipeline({
    name: 'heartbeat',
    schedule: { cron: '*/5 * * * * *', timezone: 'Europe/Paris', catchUp: 'last', metadata: { source: 'cron' } },
    steps: [
      { name: 'beat', handler: (ctx) => ({ success: true, data: { at: new Date().toISOString(), by: ctx.metadata.source } }) },
    ],
  }),
];
