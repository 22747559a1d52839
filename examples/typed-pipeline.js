// The typed builder of docs/PIPELINES.md ("Typed steps: the pipeline builder"): steps that return
// their data, read their dependencies' results as ctx.results, and run in parallel where they
// can. In TypeScript, ctx.results.fetch has fetch's return type and a misspelled key does not
// compile; this plain-JavaScript version shows the run-time side, including the JSON check.
//
//   npm run build && node examples/typed-pipeline.js      (DATABASE_URL, else the embedded PostgreSQL)
process.env.ORBIT_MIGRATE ??= '1';
const t = require('io-ts');
const E = require('fp-ts/Either');
const { pipeline, runPipeline, readRunEvents, formatError, closeDefaultClient } = require('orbit-pipeline');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const stockImport = pipeline('stock-import', { metadata: t.type({ warehouse: t.string }), maxParallel: 4 })
  .step('fetch', async (ctx) => ({
    rows: [
      { sku: `${ctx.metadata.warehouse}-1`, qty: 3 },
      { sku: `${ctx.metadata.warehouse}-2`, qty: 0 },
    ],
  }))
  // in-stock and total both need fetch only: they run at the same time.
  .step('in-stock', { dependsOn: ['fetch'] }, async (ctx) => {
    await sleep(200);
    return ctx.results.fetch.rows.filter((r) => r.qty > 0);
  })
  .step('total', { dependsOn: ['fetch'], retry: { maxAttempts: 3 } }, async (ctx) => {
    await sleep(200);
    return ctx.results.fetch.rows.reduce((sum, r) => sum + r.qty, 0);
  })
  .step('report', { dependsOn: ['in-stock', 'total'] }, (ctx) => ({
    skus: ctx.results['in-stock'].map((r) => r.sku),
    units: ctx.results.total,
  }))
  .build();

// A step whose value is not JSON fails for good, naming where (TypeScript refuses it at compile time).
const badDates = pipeline('stock-dates')
  .step('fetch', () => ({ rows: [{ sku: 'a', seen: new Date() }] }))
  .build();

const main = async () => {
  const ok = await runPipeline(stockImport, { warehouse: 'north' });
  if (E.isLeft(ok)) throw new Error(formatError(ok.left));
  const { runId, status, state } = ok.right;
  console.log(`run ${runId}: ${status}`);
  console.log('report returned', JSON.stringify(state.steps.find((s) => s.name === 'report').result));
  const events = await readRunEvents(runId);
  if (E.isLeft(events)) throw new Error(formatError(events.left));
  console.log(
    'journal:',
    events.right.map((e) => e.event.type + ('stepName' in e.event ? ` ${e.event.stepName}` : '')).join(', '),
  );

  const bad = await runPipeline(badDates, {});
  if (E.isLeft(bad)) throw new Error(formatError(bad.left));
  console.log(`run ${bad.right.runId}: ${bad.right.status}: ${bad.right.error}`);
  await closeDefaultClient();
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
