// The typed builder's wait steps (docs/PIPELINES.md, "Typed steps: the pipeline builder"):
// `.sleep()` waits on the database clock, `.waitForEvent()` waits for an event whose data its io-ts
// codec checks (refused when sent if it does not decode) and later steps read, typed in TypeScript,
// as ctx.results.approve. The run holds no worker while it sleeps or waits.
//
//   npm run build && node examples/typed-approval.js      (DATABASE_URL, else the embedded PostgreSQL)
process.env.ORBIT_MIGRATE ??= '1';
const t = require('io-ts');
const E = require('fp-ts/Either');
const {
  pipeline,
  defaultClient,
  enqueueRun,
  startWorker,
  sendEvent,
  loadRunState,
  formatError,
  closeDefaultClient,
} = require('orbit-pipeline');

const Approval = t.type({ approved: t.boolean, by: t.string });

const order = pipeline('typed-order-approval', { metadata: t.type({ orderId: t.string }) })
  .step('prepare', (ctx) => ({ order: ctx.metadata.orderId }))
  .sleep('cool-down', '1s')
  .waitForEvent('approve', {
    event: 'approved',
    timeout: '1m',
    onTimeout: { continueWith: { approved: false, by: 'timeout' } },
    output: Approval,
  })
  .step('ship', (ctx) => ({
    order: ctx.results.prepare.order,
    shipped: ctx.results.approve.approved,
    by: ctx.results.approve.by,
  }))
  .build();

const must = (r) => {
  if (E.isLeft(r)) throw new Error(formatError(r.left));
  return r.right;
};
const until = async (client, runId, status) => {
  while (must(await loadRunState(runId, { client })).status !== status) await new Promise((r) => setTimeout(r, 50));
};

const main = async () => {
  const client = must(await defaultClient());
  const worker = must(await startWorker({ client, concurrency: 2 }));
  try {
    const { runId } = must(await enqueueRun(order, { orderId: 'o-42' }, { client }));
    await until(client, runId, 'waiting');
    console.log(`${runId} slept, and is waiting for "approved"`);
    const bad = await sendEvent(client, runId, 'approved', { approved: 'yes' });
    console.log(`refused: ${E.isLeft(bad) ? formatError(bad.left) : 'no!'}`);
    must(await sendEvent(client, runId, 'approved', { approved: true, by: 'ana' }));
    await until(client, runId, 'success');
    const ship = must(await loadRunState(runId, { client })).steps.find((s) => s.name === 'ship');
    console.log(`ship returned ${JSON.stringify(ship.result)}`);
  } finally {
    await worker.stop();
    await closeDefaultClient();
  }
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
