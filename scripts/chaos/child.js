// One chaos worker process: runs the runs of CHAOS_SPEC ({ url, schema, concurrency, runs: [{ id,
// pipeline, metadata }] }) with the library, `concurrency` at a time, printing "done <id> <status>"
// as each ends. The harness kill -9s these processes at random moments.
const { connect, createRegistry, runPipeline } = require('orbit-pipeline');
const pipelines = require('./pipelines');

const main = async () => {
  const spec = JSON.parse(process.env.CHAOS_SPEC);
  const registry = createRegistry();
  for (const p of pipelines) registry.registerPipeline(p);
  const c = await connect({ databaseUrl: spec.url, schema: spec.schema, registry, thresholdMs: 1000, migrate: false });
  if (c._tag === 'Left') {
    process.stderr.write(`connect failed: ${JSON.stringify(c.left)}\n`);
    process.exit(1);
  }
  const client = c.right;
  let next = 0;
  const worker = async () => {
    while (next < spec.runs.length) {
      const r = spec.runs[next++];
      const res = await runPipeline(r.pipeline, r.metadata, { client, runId: r.id, triggeredBy: 'chaos' });
      process.stdout.write(`done ${r.id} ${res._tag === 'Right' ? res.right.status : `error:${res.left._tag}`}\n`);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  await client.close();
};

main().catch((err) => {
  process.stderr.write(`child crashed: ${err && err.stack}\n`);
  process.exit(1);
});
