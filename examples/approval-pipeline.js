// Runs that wait (docs/PIPELINES.md, "Sleep steps" and "Waiting for an event"): `cool-down` sleeps
// a second, then `approve` waits for an "approved" event (at most a minute), sent here by a
// correlation key (the order id in the run's metadata), not the run id. While the run sleeps or
// waits it holds no worker and no lease; the worker wakes it at its time or when the event comes.
//
//   npm run build && node examples/approval-pipeline.js      (DATABASE_URL, else the embedded PostgreSQL)
process.env.ORBIT_MIGRATE ??= '1';
const E = require('fp-ts/Either');
const {
  definePipeline,
  registry,
  defaultClient,
  enqueueRun,
  startWorker,
  sendEvent,
  loadRunState,
  currentWait,
  describeWait,
  readRunEvents,
  formatError,
  closeDefaultClient,
} = require('orbit-pipeline');

const order = definePipeline({
  name: 'order-approval',
  steps: [
    { name: 'prepare', handler: (ctx) => ({ success: true, data: { order: ctx.metadata.orderId } }) },
    { name: 'cool-down', sleep: '1s' },
    { name: 'approve', waitForEvent: { event: 'approved', timeout: '1m', onTimeout: { continueWith: { approved: false } } } },
    { name: 'ship', handler: (ctx) => ({ success: true, data: { shipped: ctx.prevResults.approve.data.approved } }) },
  ],
});
registry.registerPipeline(order);

const must = (r) => {
  if (E.isLeft(r)) throw new Error(formatError(r.left));
  return r.right;
};
const stateOf = async (client, runId) => must(await loadRunState(runId, { client }));
const statusOf = async (client, runId) => (await stateOf(client, runId)).status;
// What `orbit runs` and the dashboard show for a suspended run: "sleeping until 2026-12-08 01:00:00Z".
const waitOf = async (client, runId) => describeWait(currentWait(await stateOf(client, runId)));
const until = async (client, runId, status) => {
  while ((await statusOf(client, runId)) !== status) await new Promise((r) => setTimeout(r, 50));
};

const main = async () => {
  const client = must(await defaultClient());
  const worker = must(await startWorker({ client, concurrency: 2 }));
  try {
    const { runId } = must(await enqueueRun('order-approval', { orderId: 'o-42' }, { client }));
    await until(client, runId, 'sleeping');
    console.log(`${runId} is ${await waitOf(client, runId)} (no worker holds it)`);
    await until(client, runId, 'waiting');
    console.log(`${runId} is ${await waitOf(client, runId)}`);
    const sent = must(
      await sendEvent(
        client,
        { key: { orderId: 'o-42' }, pipeline: 'order-approval' },
        'approved',
        { approved: true },
        { sender: 'ana' },
      ),
    );
    console.log(`sent "approved" to ${sent.runId} at ${sent.sentAt} (${sent.delivery} by step ${sent.step})`);
    await until(client, runId, 'success');
    for (const e of must(await readRunEvents(runId, { client })))
      console.log(`${String(e.seq).padStart(3)} ${e.event.type}${'stepName' in e.event ? ` ${e.event.stepName}` : ''}`);
  } finally {
    await worker.stop();
    await closeDefaultClient();
  }
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
