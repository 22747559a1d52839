// data-pipeline, version 2: the same steps plus `notify` at the end. Used by docs/RECOVERY.md to
// show drift: a run created by examples/data-pipeline.js is refused by `orbit resume` when this
// module is loaded instead, unless `--force` is given.
const { definePipeline } = require('orbit-pipeline');
const { dataPipeline } = require('./data-pipeline');

const dataPipelineV2 = definePipeline({
  ...dataPipeline,
  steps: [
    ...dataPipeline.steps,
    {
      name: 'notify',
      handler: async (ctx) => ({ success: true, data: { notified: `batch ${ctx.metadata?.batchId ?? '?'}` } }),
    },
  ],
});

module.exports = { dataPipelineV2 };
