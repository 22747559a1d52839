// Queue controls of docs/WORKER.md, end to end in one process: a pipeline limited to 1 run at
// once (across all workers), priorities that order the queue, and a dedup key that returns the
// first run instead of queueing a second.
//
//   npm run build && node examples/queue-controls.js      (DATABASE_URL, else the embedded PostgreSQL)
process.env.ORBIT_MIGRATE ??= '1';
const E = require('fp-ts/Either');
const { definePipeline, registry, enqueueRun, startWorker, formatError, closeDefaultClient } = require('orbit-pipeline');

let running = 0;
let most = 0;
const order = [];
const report = definePipeline({
  name: 'nightly-report',
  concurrency: 1, // one run of this pipeline at a time, counting every worker (2, 5 … work alike)
  steps: [
    {
      name: 'render',
      handler: async (ctx) => {
        running += 1;
        most = Math.max(most, running);
        order.push(ctx.metadata.customer);
        await new Promise((resolve) => setTimeout(resolve, 100));
        running -= 1;
        return { success: true };
      },
    },
  ],
});
registry.registerPipeline(report);

const orThrow = (r) => {
  if (E.isLeft(r)) throw new Error(formatError(r.left));
  return r.right;
};

const main = async () => {
  // Queued before any worker runs: the worker takes priority 10 first, then 5, then the rest oldest first.
  for (const [customer, priority] of [
    ['acme', 0],
    ['globex', 5],
    ['initech', 0],
    ['umbrella', 10],
    ['hooli', 0],
  ])
    orThrow(await enqueueRun('nightly-report', { customer }, { priority }));
  const first = orThrow(await enqueueRun('nightly-report', { customer: 'stark' }, { dedupKey: 'stark-2026-12-07' }));
  const again = orThrow(await enqueueRun('nightly-report', { customer: 'stark' }, { dedupKey: 'stark-2026-12-07' }));
  console.log(
    `dedup: first ${first.deduplicated ? 'deduplicated' : 'queued'}, second ${again.deduplicated ? 'deduplicated' : 'queued'}, same run: ${first.runId === again.runId}`,
  );

  const worker = orThrow(await startWorker({ concurrency: 8 }));
  while (order.length < 6) await new Promise((resolve) => setTimeout(resolve, 50));
  await worker.stop();
  console.log(`order: ${order.join(', ')}`);
  console.log(`most runs at once: ${most} (limit 1, worker concurrency 8)`);
  await closeDefaultClient();
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
