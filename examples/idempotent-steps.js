// The idempotency patterns of docs/PIPELINES.md, as a pipeline you can run and crash:
//
//   orbit --pipelines examples/idempotent-steps.js run order-import \
//     --metadata '{"batchId":"b-1","userId":"u-1","orderId":"o-1","amountCents":1999}'
//
// Each step keeps its side effects in tables of the schema `orbit_examples`, in Orbit's own
// database (DATABASE_URL, else the embedded server: the client says which). ORBIT_DEMO_CRASH_IN=<step> kills the process (SIGKILL) on that step's
// first attempt right after its side effect and before its result is journaled: the worst moment.
// After `orbit resume`, every table still holds exactly one row per batch, user, order and key.
const { Pool } = require('pg');
const { defaultClient, definePipeline, formatError, NonRetryableError } = require('orbit-pipeline');

let ready;
/** Opens a pool on Orbit's database and creates the example tables, once per process. */
const db = () => {
  ready ??= defaultClient().then(async (client) => {
    if (client._tag === 'Left') throw new Error(formatError(client.left));
    const pool = new Pool({ connectionString: client.right.databaseUrl, max: 2, allowExitOnIdle: true });
    await pool.query(`
    CREATE SCHEMA IF NOT EXISTS orbit_examples;
    CREATE TABLE IF NOT EXISTS orbit_examples.imports (
      id serial PRIMARY KEY, batch_id text NOT NULL UNIQUE, rows int NOT NULL);
    CREATE TABLE IF NOT EXISTS orbit_examples.user_profiles (
      user_id text PRIMARY KEY, data jsonb NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS orbit_examples.orders (
      id text PRIMARY KEY, payment_status text NOT NULL DEFAULT 'pending', charge_id text);
    CREATE TABLE IF NOT EXISTS orbit_examples.gateway_charges (
      idempotency_key text PRIMARY KEY, charge_id text NOT NULL, amount_cents int NOT NULL);
    CREATE TABLE IF NOT EXISTS orbit_examples.outbox (
      idempotency_key text PRIMARY KEY, user_id text NOT NULL, body text NOT NULL);
  `);
    return pool;
  });
  return ready;
};

/** Kills the process after a side effect, before Orbit journals the step's result. */
const crashHere = (ctx) => {
  if (process.env.ORBIT_DEMO_CRASH_IN === ctx.stepName && ctx.attempt === 1) {
    process.stdout.write(`  (demo: SIGKILL after the side effect of ${ctx.stepName})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
};

/**
 * A stand-in for a payment provider that honours idempotency keys (as Stripe and most others do):
 * the same key always returns the same charge, however often it is sent.
 */
const paymentGateway = {
  charge: async ({ idempotencyKey, amountCents }) => {
    const p = await db();
    const r = await p.query(
      `INSERT INTO orbit_examples.gateway_charges (idempotency_key, charge_id, amount_cents)
       VALUES ($1, 'ch_' || md5($1), $2)
       ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
       RETURNING charge_id`,
      [idempotencyKey, amountCents],
    );
    return { chargeId: r.rows[0].charge_id };
  },
};

const orderImport = definePipeline({
  name: 'order-import',
  retry: { maxAttempts: 3, initialDelayMs: 500 },
  steps: [
    {
      // 1. Check-before-execute: look for the work's own trace before doing it.
      name: 'import-data',
      handler: async (ctx) => {
        const batchId = ctx.metadata?.batchId;
        if (typeof batchId !== 'string') throw new NonRetryableError('metadata.batchId is required');
        const p = await db();
        const existing = await p.query('SELECT id FROM orbit_examples.imports WHERE batch_id = $1', [batchId]);
        if (existing.rows.length > 0) {
          return { success: true, data: { importId: existing.rows[0].id, skipped: true } };
        }
        // The UNIQUE (batch_id) constraint is the backstop if two attempts ever race past the check.
        const inserted = await p.query(
          'INSERT INTO orbit_examples.imports (batch_id, rows) VALUES ($1, $2) ON CONFLICT (batch_id) DO NOTHING RETURNING id',
          [batchId, 3],
        );
        crashHere(ctx);
        return { success: true, data: { importId: inserted.rows[0]?.id ?? null, skipped: false } };
      },
    },
    {
      // 2. Upsert: writing the same row twice leaves one row with the same content.
      name: 'update-user-profile',
      handler: async (ctx) => {
        const p = await db();
        await p.query(
          `INSERT INTO orbit_examples.user_profiles (user_id, data, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (user_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
          [ctx.metadata.userId, { importId: ctx.prevResults['import-data']?.data?.importId }],
        );
        crashHere(ctx);
        return { success: true, data: { userId: ctx.metadata.userId } };
      },
    },
    {
      // 3. State tracking + the provider's idempotency key (ctx.idempotencyKey is stable across
      //    attempts and recoveries: `<runId>:process-payment`).
      name: 'process-payment',
      handler: async (ctx) => {
        const { orderId, amountCents } = ctx.metadata;
        const p = await db();
        await p.query('INSERT INTO orbit_examples.orders (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [orderId]);
        const order = await p.query('SELECT payment_status, charge_id FROM orbit_examples.orders WHERE id = $1', [orderId]);
        if (order.rows[0].payment_status === 'completed') {
          return { success: true, data: { chargeId: order.rows[0].charge_id, status: 'already_processed' } };
        }
        const { chargeId } = await paymentGateway.charge({ idempotencyKey: ctx.idempotencyKey, amountCents });
        crashHere(ctx); // charged, not yet recorded: the resumed attempt sends the same key again
        await p.query("UPDATE orbit_examples.orders SET payment_status = 'completed', charge_id = $2 WHERE id = $1", [
          orderId,
          chargeId,
        ]);
        return { success: true, data: { chargeId, status: 'charged' } };
      },
    },
    {
      // 4. Unique identifiers: the message is keyed by ctx.idempotencyKey in an outbox with a
      //    primary key, so a re-executed step cannot queue it twice.
      name: 'send-notification',
      handler: async (ctx) => {
        const p = await db();
        const queued = await p.query(
          `INSERT INTO orbit_examples.outbox (idempotency_key, user_id, body) VALUES ($1, $2, $3)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`,
          [ctx.idempotencyKey, ctx.metadata.userId, `Order ${ctx.metadata.orderId} paid`],
        );
        crashHere(ctx);
        return { success: true, data: { notificationKey: ctx.idempotencyKey, skipped: queued.rowCount === 0 } };
      },
    },
  ],
});

module.exports = { orderImport };
