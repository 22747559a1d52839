// An example pipeline module for `orbit --pipelines examples/data-pipeline.js` (or copy it to
// ./orbit.config.js). Plain JavaScript, so it runs without a build step of its own.
//
// data-pipeline: extract a batch of records, transform them, load them into a table, with each
// step idempotent so a crash at any point is safe to resume (docs/PIPELINES.md explains the patterns).
//
// ORBIT_DEMO_CRASH_IN=<step> makes that step kill its own process (kill -9) on its first attempt,
// midway through its work: the demo (scripts/demo.js) uses it to show recovery.
const { definePipeline, NonRetryableError } = require('orbit-pipeline');
const fs = require('node:fs');
const path = require('node:path');

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

const crashHere = (ctx) => {
  if (process.env.ORBIT_DEMO_CRASH_IN === ctx.stepName && ctx.attempt === 1) {
    process.stdout.write(`  (demo: killing this process with SIGKILL in the middle of ${ctx.stepName})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
};

/** Where load-data writes: one file per batch, replaced atomically, so a re-run overwrites, never duplicates. */
const outputDir = () => process.env.ORBIT_DEMO_OUTPUT || path.join(process.cwd(), '.orbit', 'demo-output');

const dataPipeline = definePipeline({
  name: 'data-pipeline',
  retry: { maxAttempts: 3, initialDelayMs: 200, backoffFactor: 2, maxDelayMs: 2000 },
  steps: [
    {
      name: 'extract-data',
      handler: async (ctx) => {
        const size = Number(ctx.metadata?.size ?? 5);
        if (!Number.isInteger(size) || size < 1)
          throw new NonRetryableError(`metadata.size must be a positive integer, got ${ctx.metadata?.size}`);
        await sleep(300, ctx.signal);
        const records = Array.from({ length: size }, (_, i) => ({
          id: `${ctx.metadata?.batchId ?? 'batch'}-${i + 1}`,
          value: (i + 1) * 10,
        }));
        return { success: true, data: { records } };
      },
    },
    {
      name: 'transform-data',
      handler: async (ctx) => {
        const records = ctx.prevResults['extract-data']?.data?.records ?? [];
        await sleep(500, ctx.signal);
        crashHere(ctx);
        await sleep(500, ctx.signal);
        return { success: true, data: { records: records.map((r) => ({ ...r, value: r.value * 2 })) } };
      },
    },
    {
      name: 'load-data',
      handler: async (ctx) => {
        const records = ctx.prevResults['transform-data']?.data?.records ?? [];
        const dir = outputDir();
        fs.mkdirSync(dir, { recursive: true });
        const target = path.join(dir, `${ctx.metadata?.batchId ?? ctx.runId}.json`);
        // Write-then-rename keyed by batch: running this step twice leaves the same single file.
        const tmp = `${target}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify({ runId: ctx.runId, idempotencyKey: ctx.idempotencyKey, records }, null, 2));
        fs.renameSync(tmp, target);
        return { success: true, data: { loaded: records.length, target } };
      },
    },
  ],
});

module.exports = { dataPipeline };
