// Chaos workload, loaded by the `orbit` CLI (`--pipelines scripts/chaos/pipelines.js`) and by
// scripts/chaos/child.js. Pipelines chaos-4 … chaos-10 have that many steps. Each step sleeps
// metadata.sleeps[i] ms (honouring its signal), then, in one transaction of its own:
//   - counts the execution in <ledger>.executions (one row per execution: re-runs show), and
//   - writes its effect to <ledger>.ledger keyed by ctx.idempotencyKey (ON CONFLICT DO NOTHING),
// so double execution and double effects are both visible. The ledger lives in the schema
// CHAOS_LEDGER_SCHEMA of CHAOS_LEDGER_URL. Attempts after the first (after a takeover) sleep
// metadata.laterSleeps[i] instead when given; a step whose name is metadata.poison kills its own
// process (SIGKILL) on every attempt; a sleep cut short by the step's signal prints
// "aborted <runId> <step> <attempt>" to stderr.
const { Pool } = require('pg');
const t = require('io-ts');
const { definePipeline, NonRetryableError } = require('orbit-pipeline');

let pool;
const ledgerPool = () => {
  if (!pool) {
    pool = new Pool({ connectionString: process.env.CHAOS_LEDGER_URL, max: 4, allowExitOnIdle: true });
    pool.on('error', () => undefined);
  }
  return pool;
};
const ledger = () => `"${process.env.CHAOS_LEDGER_SCHEMA}"`;

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

/**
 * The effect: one statement (so one implicit transaction) that counts the execution and writes
 * the ledger row, retried through a restarting server like any careful handler would.
 */
const recordEffect = async (ctx, name) => {
  for (let attempt = 0; ; attempt++) {
    try {
      await ledgerPool().query(
        `WITH execution AS (INSERT INTO ${ledger()}.executions (run_id, step, key) VALUES ($1, $2, $3))
         INSERT INTO ${ledger()}.ledger (key, run_id, step) VALUES ($3, $1, $2) ON CONFLICT (key) DO NOTHING`,
        [ctx.runId, name, ctx.idempotencyKey],
      );
      return;
    } catch (e) {
      if (attempt > 60) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
};

const chaosStep = (name, index) => ({
  name,
  handler: async (ctx) => {
    const m = ctx.metadata || {};
    if (m.poison === name) process.kill(process.pid, 'SIGKILL');
    const sleeps = ctx.attempt > 1 && m.laterSleeps ? m.laterSleeps : m.sleeps;
    const ms = (sleeps && sleeps[index]) || 0;
    try {
      if (ms > 0) await sleep(ms, ctx.signal);
    } catch (err) {
      process.stderr.write(`aborted ${ctx.runId} ${name} ${ctx.attempt}\n`);
      throw err;
    }
    await recordEffect(ctx, name);
    return { success: true, data: { step: name, n: index } };
  },
});

const chaosPipelines = [];
for (let n = 4; n <= 10; n++) {
  chaosPipelines.push(
    definePipeline({
      name: `chaos-${n}`,
      retry: { maxAttempts: 5, initialDelayMs: 50, backoffFactor: 2 },
      steps: Array.from({ length: n }, (_, i) => chaosStep(`s${i + 1}`, i)),
    }),
  );
}

// A run that fails (for refusals of resume), and one whose metadata is typed (for secrets in errors).
chaosPipelines.push(
  definePipeline({
    name: 'chaos-fail',
    steps: [
      {
        name: 'doomed',
        handler: async () => {
          throw new NonRetryableError('doomed cannot succeed');
        },
      },
    ],
  }),
  definePipeline({
    name: 'chaos-secret',
    metadata: t.type({ user: t.string, password: t.string }),
    steps: [
      {
        name: 'login',
        handler: async (ctx) => {
          if (ctx.metadata.user === 'fail') throw new Error('login refused');
          return { success: true, data: { user: ctx.metadata.user } };
        },
      },
    ],
  }),
);

// R15: a run that sleeps an hour as its first step (then one no-op step); thousands of these sleep
// while the database's statements are counted.
chaosPipelines.push(
  definePipeline({
    name: 'chaos-sleeper',
    steps: [
      { name: 'nap', sleep: '1h' },
      { name: 'after', handler: async () => ({ success: true }) },
    ],
  }),
);

module.exports = chaosPipelines;
