// A map step (docs/PIPELINES.md, "Map steps"): `resize` runs once per image that `list` returns,
// four at a time, each item with its own attempts, retries and idempotency key
// (<runId>:resize:<index>); its data is the list of the items' data, in order.
//
//   npm run build && node examples/map-pipeline.js      (DATABASE_URL, else the embedded PostgreSQL)
process.env.ORBIT_MIGRATE ??= '1';
const E = require('fp-ts/Either');
const { definePipeline, runPipeline, readRunEvents, formatError, closeDefaultClient } = require('orbit-pipeline');

const thumbnails = definePipeline({
  name: 'thumbnails',
  retry: { maxAttempts: 3, initialDelayMs: 50 },
  steps: [
    { name: 'list', handler: () => ({ success: true, data: ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png'] }) },
    {
      name: 'resize',
      map: { over: 'list', concurrency: 4 },
      handler: async (ctx) => {
        // One flaky item: its retry runs on its own, the others are not run again.
        if (ctx.item === 'c.png' && ctx.attempt === 1) throw new Error('storage timeout');
        return { success: true, data: { file: ctx.item, thumb: `thumb-${ctx.item}`, key: ctx.idempotencyKey } };
      },
    },
    {
      name: 'publish',
      handler: (ctx) => ({ success: true, data: { count: ctx.prevResults.resize.data.length } }),
    },
  ],
});

const main = async () => {
  const r = await runPipeline(thumbnails, {});
  if (E.isLeft(r)) throw new Error(formatError(r.left));
  const { runId, status, state } = r.right;
  console.log(`run ${runId}: ${status}`);
  console.log('resize returned', JSON.stringify(state.steps.find((s) => s.name === 'resize').result.map((x) => x.thumb)));
  console.log('publish returned', JSON.stringify(state.steps.find((s) => s.name === 'publish').result));
  const events = await readRunEvents(runId);
  if (E.isLeft(events)) throw new Error(formatError(events.left));
  const count = (type) => events.right.filter((e) => e.event.type === type).length;
  console.log(
    `journal: ${count('item.started')} item attempts, ${count('item.succeeded')} items succeeded, ${count('item.retry_scheduled')} retry`,
  );
  await closeDefaultClient();
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
