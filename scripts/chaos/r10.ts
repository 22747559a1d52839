/**
 * R10: failover to a promoted streaming replica (issue 22 item 2). A throwaway primary and its
 * pg_basebackup replica (scripts/chaos/replicaPair.ts, never the shared server); two `orbit worker`
 * processes started once with the two-host URL `…P,…R/…?target_session_attrs=read-write`; runs in
 * flight; the primary killed with kill -9 and the replica promoted with `pg_ctl promote`; more runs
 * queued after the promotion for the same workers, which are never restarted.
 *
 * Synchronous replication (synchronous_standby_names, synchronous_commit = on): must lose nothing.
 * Asynchronous: the replica is held a moment behind before the kill (the WAL streams through a relay
 * that stops passing it), so the primary commits transitions the replica never receives. Lost
 * transitions are measured against the old primary's own data directory, started again after the
 * run (crash recovery, on a port of its own): its events whose event id the new primary lacks. Must
 * hold in both: every run succeeds (nothing stuck), no step succeeds twice, no seq gap, every hash
 * chain verifies, projections equal the fold, one ledger effect per step — a lost step success comes
 * back as the step executed again with the same idempotency key — and both workers stay alive and
 * execute the runs queued after the promotion.
 *
 * The ledger (executions, effects) lives on the chaos cluster, outside the failing pair; it is
 * copied to the new primary at the end so the shared checks (checkJournal) read both together.
 */
import { writeFileSync } from 'node:fs';
import * as E from 'fp-ts/Either';
import { Pool } from 'pg';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { migrate } from '../../src/migrations/migrate';
import { enqueueRun } from '../../src/executor/queue';
import type { Pipeline } from '../../src/pipeline/types';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { startReplicaPair, type ReplicaPair } from './replicaPair';
import {
  checkJournal,
  createLedger,
  ledgerSchema,
  orbit,
  sleep,
  waitUntil,
  type Ctx,
  type Figure,
  type Proc,
  type ScenarioResult,
  PIPELINES,
} from './context';

interface ModeResult {
  readonly figures: Figure[];
  readonly failures: string[];
}

const count = async (pool: Pool, sql: string, values: unknown[] = []): Promise<number> =>
  Number((await pool.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);

/**
 * Queues runs through a library client on the two-host URL (one process for all, not one `orbit run`
 * each). A call refused because the database cannot be reached is tried again (up to 20 times, 0.5 s
 * apart) and counted: right after a promotion, one call may still meet the dead primary.
 */
const queue = async (ctx: Ctx, client: OrbitClient, ids: readonly string[]): Promise<number> => {
  let refused = 0;
  for (const id of ids) {
    const steps = ctx.rng.int(4, 6);
    const sleeps = Array.from({ length: steps }, () => ctx.rng.int(20, 120));
    for (let attempt = 0; ; attempt++) {
      const r = await enqueueRun(`chaos-${steps}`, { sleeps, laterSleeps: sleeps }, { client, runId: id, triggeredBy: 'chaos' });
      if (E.isRight(r)) break;
      if (r.left._tag !== 'DatabaseUnavailable' || attempt >= 20) throw new Error(`enqueueRun ${id}: ${formatError(r.left)}`);
      refused += 1;
      await sleep(500);
    }
  }
  return refused;
};

const runMode = async (ctx: Ctx, synchronous: boolean): Promise<ModeResult> => {
  const mode = synchronous ? 'sync' : 'async';
  const schema = `chaos_r10_${mode}_${ctx.seed}`;
  // CHAOS_R10_RUNS=N: N runs before the promotion (and N/4 after) instead of 40 + 10 (4 + 2 small).
  const sized = Number(process.env.CHAOS_R10_RUNS);
  const n = Number.isInteger(sized) && sized > 0 ? sized : ctx.small ? 4 : 40;
  const after = Number.isInteger(sized) && sized > 0 ? Math.max(1, Math.floor(sized / 4)) : ctx.small ? 2 : 10;
  const holdMs = 300;
  const ids = Array.from({ length: n }, (_, i) => `r10-${mode}-${ctx.seed}-${i}`);
  const laterIds = Array.from({ length: after }, (_, i) => `r10-${mode}-${ctx.seed}-after-${i}`);
  const all = [...ids, ...laterIds];
  const failures: string[] = [];
  const t0 = Date.now();
  const mark = (what: string) => ctx.log(`R10 ${mode}: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const workers: Proc[] = [];
  let pair: ReplicaPair | undefined;
  const pools: Pool[] = [];
  let client: OrbitClient | undefined;
  let oldPool: Pool | undefined;
  try {
    pair = await startReplicaPair({ synchronous, relay: !synchronous, label: `orbit-chaos-r10-${mode}` });
    mark('pair started');
    await createLedger(ctx.pool, schema);
    const d = openDatabase({ url: pair.primaryUrl, schema, max: 2, applicationName: 'chaos' });
    if (E.isLeft(d)) throw new Error(formatError(d.left));
    try {
      const m = await migrate(d.right);
      if (E.isLeft(m)) throw new Error(`migrations failed: ${formatError(m.left)}`);
    } finally {
      await closeDatabase(d.right);
    }
    const registry = createRegistry();
    for (const pl of require(PIPELINES) as Pipeline[]) registry.registerPipeline(pl);
    const c = await connect({ databaseUrl: pair.url, schema, registry, migrate: false, retryBudgetMs: 60_000 });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
    await queue(ctx, client, ids);
    // Every run is on the replica before the fault: what can be lost is transitions, not runs.
    mark('queued, caught up');
    await pair.caughtUp();
    const env = { DATABASE_URL: pair.url };
    for (let i = 0; i < 2; i++) {
      workers.push(
        orbit(
          ctx,
          schema,
          [
            'worker',
            '--concurrency',
            String(Math.ceil(n / 2)),
            '--threshold',
            '2s',
            ...(process.env.CHAOS_R10_DEBUG === '1' ? ['-v'] : []),
          ],
          { env },
        ),
      );
    }
    const listening = await waitUntil(
      'the workers to listen',
      async () => workers.every((w) => w.stdout().includes('listening on')),
      30_000,
    );
    if (!listening) throw new Error('a worker did not start listening within 30 s');
    mark('workers listening');
    const workerIds = workers.map((w) => /Recovery worker (\S+) listening/.exec(w.stdout())?.[1] ?? '?');
    // The harness's own checks go to one server at a time: the primary, then the promoted replica.
    const primary = new Pool({ connectionString: pair.primaryUrl, max: 2, application_name: 'chaos' });
    primary.on('error', () => undefined);
    pools.push(primary);
    // In flight: about a third of the steps have succeeded.
    const totalSteps = await count(primary, `SELECT sum(jsonb_array_length(step_names)) AS n FROM "${schema}".runs`);
    const inFlight = await waitUntil(
      'runs to be in flight',
      async () =>
        (await count(primary, `SELECT count(*) AS n FROM "${schema}".run_events WHERE type = 'step.succeeded'`)) >=
        Math.max(1, Math.floor(totalSteps / 3)),
      60_000,
    );
    if (!inFlight) throw new Error('the workers did not get a third of the steps done within 60 s');
    mark('runs in flight');
    if (!synchronous) {
      pair.holdReplication();
      await sleep(holdMs);
    }
    const killedAt = await pair.killPrimary();
    await pair.promote();
    const promotedMs = Date.now() - killedAt;
    mark('promoted');
    const p = new Pool({ connectionString: pair.replicaUrl, max: 2, application_name: 'chaos' });
    p.on('error', () => undefined);
    pools.push(p);
    // The same workers, never restarted, get new runs through the same URL.
    const refusedAfter = await queue(ctx, client, laterIds);
    mark('later runs queued');
    const done = await waitUntil(
      'every run to end',
      async () =>
        (await count(p, `SELECT count(*) AS n FROM "${schema}".runs WHERE id = ANY($1) AND status = 'success'`, [all]).catch(
          () => 0,
        )) === all.length,
      ctx.small ? 60_000 : 600_000,
    );
    if (!done) {
      const stuck = await p.query<{ id: string; status: string }>(
        `SELECT id, status FROM "${schema}".runs WHERE id = ANY($1) AND status <> 'success' ORDER BY id LIMIT 3`,
        [all],
      );
      failures.push(`not every run succeeded (stuck: ${stuck.rows.map((r) => `${r.id} ${r.status}`).join(', ')})`);
      if (process.env.CHAOS_R10_DEBUG === '1') {
        for (const w of workers) ctx.log(`worker output:\n${w.stdout().slice(-3000)}`);
        const rows = await p.query(
          `SELECT id, status, owner, last_seq, last_event_at FROM "${schema}".runs WHERE id = ANY($1) ORDER BY id LIMIT 5`,
          [all],
        );
        ctx.log(JSON.stringify(rows.rows));
        const wk = await p.query(`SELECT id, lease_until, held, now() FROM "${schema}".workers`);
        ctx.log(JSON.stringify(wk.rows));
      }
    }
    mark('all done');
    // CHAOS_R10_OUT=<dir>: every worker's whole output, pass or fail (for reading a slow recovery).
    const outDir = process.env.CHAOS_R10_OUT;
    if (outDir !== undefined && outDir !== '')
      workers.forEach((w, i) => writeFileSync(`${outDir}/r10-${mode}-${ctx.seed}-worker${i}.log`, w.stdout()));
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length;
    if (alive !== 2) failures.push(`${2 - alive} worker(s) exited across the promotion`);
    const firstAppend = (
      await p.query<{ ms: number | null }>(
        `SELECT (extract(epoch FROM min(occurred_at)) * 1000)::float8 - $1::float8 AS ms FROM "${schema}".run_events
          WHERE occurred_at > to_timestamp($1::float8 / 1000)`,
        [killedAt],
      )
    ).rows[0]?.ms;
    // Which processes executed the runs queued after the promotion: the workers started before it.
    const laterWriters = (
      await p.query<{ writer: string }>(
        `SELECT DISTINCT writer FROM "${schema}".run_events WHERE run_id = ANY($1) AND type = 'step.succeeded'`,
        [laterIds],
      )
    ).rows.map((r) => r.writer);
    const strangers = laterWriters.filter((w) => !workerIds.includes(w));
    const laterDone = await count(p, `SELECT count(*) AS n FROM "${schema}".runs WHERE id = ANY($1) AND status = 'success'`, [
      laterIds,
    ]);
    if (strangers.length > 0 || laterWriters.length === 0)
      failures.push(`runs queued after the promotion were not executed by the original workers (${laterWriters.join(', ')})`);

    // What the old primary had committed that the new one lacks.
    const oldUrl = await pair.startOldPrimary();
    oldPool = new Pool({ connectionString: oldUrl, max: 1, application_name: 'chaos' });
    oldPool.on('error', () => undefined);
    const oldEvents = (
      await oldPool.query<{ event_id: string; run_id: string; type: string; step_name: string | null }>(
        `SELECT event_id::text, run_id, type, step_name FROM "${schema}".run_events`,
      )
    ).rows;
    const present = new Set(
      (
        await p.query<{ event_id: string }>(
          `SELECT event_id::text FROM "${schema}".run_events WHERE event_id = ANY($1::uuid[])`,
          [oldEvents.map((e) => e.event_id)],
        )
      ).rows.map((r) => r.event_id),
    );
    const lost = oldEvents.filter((e) => !present.has(e.event_id));
    const lostRuns = lost.filter((e) => e.type === 'run.created').length;
    const lostSuccesses = lost.filter((e) => e.type === 'step.succeeded');

    mark('old primary read');
    // The ledger beside the journal on the new primary, for the shared checks.
    await createLedger(p, schema);
    const l = `"${ledgerSchema(schema)}"`;
    const executions = await ctx.pool.query<{ run_id: string; step: string; key: string }>(
      `SELECT run_id, step, key FROM ${l}.executions ORDER BY id`,
    );
    const effects = await ctx.pool.query<{ key: string; run_id: string; step: string }>(
      `SELECT key, run_id, step FROM ${l}.ledger`,
    );
    await p.query(
      `INSERT INTO ${l}.executions (run_id, step, key) SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, step text, key text)`,
      [JSON.stringify(executions.rows)],
    );
    await p.query(
      `INSERT INTO ${l}.ledger (key, run_id, step) SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(key text, run_id text, step text)`,
      [JSON.stringify(effects.rows)],
    );
    // A lost success: its step ran again, with the same idempotency key, and left one effect.
    const notReExecuted = lostSuccesses.filter((e) => {
      const runs = executions.rows.filter((x) => x.run_id === e.run_id && x.step === e.step_name);
      return runs.length < 2 || new Set(runs.map((x) => x.key)).size !== 1;
    });
    if (notReExecuted.length > 0)
      failures.push(`${notReExecuted.length} lost step success(es) not re-executed under the same idempotency key`);
    if (synchronous && lost.length > 0) failures.push(`synchronous replication lost ${lost.length} committed transition(s)`);
    if (lostRuns > 0) failures.push(`${lostRuns} run(s) lost (created before the replica caught up?)`);

    const checkCtx: Ctx = { ...ctx, cluster: { ...ctx.cluster, url: pair.replicaUrl }, pool: p };
    const check = await checkJournal(checkCtx, schema, all);
    failures.push(...check.failures);
    const chainsOk = check.failures.every((f) => !f.startsWith('hash chain') && !f.includes('seq gap'));
    return {
      figures: [
        [`${mode}: runs (before + after the promotion)`, `${n} + ${after}`],
        [
          `${mode}: lost committed transitions`,
          `${lost.length}${lost.length > 0 ? ` (${lostSuccesses.length} step successes)` : ''}`,
        ],
        [`${mode}: lost runs`, lostRuns],
        [`${mode}: double successes`, check.counts.doubleSuccesses],
        [`${mode}: re-executed steps (same key)`, check.counts.reExecuted],
        [`${mode}: chains verified`, chainsOk ? `${all.length}/${all.length}` : 'no'],
        [`${mode}: kill → promoted`, `${(promotedMs / 1000).toFixed(2)} s`],
        [
          `${mode}: kill → first append on the new primary`,
          firstAppend == null ? 'none' : `${(firstAppend / 1000).toFixed(2)} s`,
        ],
        [`${mode}: workers alive, not restarted`, `${alive}/2`],
        [`${mode}: enqueue calls refused right after the promotion (tried again)`, refusedAfter],
        [`${mode}: runs after the promotion by those workers`, `${strangers.length === 0 ? laterDone : 0}/${laterIds.length}`],
        ...(synchronous ? [] : ([[`${mode}: replica held behind before the kill`, `${holdMs} ms`]] as Figure[])),
      ],
      failures: failures.map((f) => `${mode}: ${f}`),
    };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    await client?.close();
    for (const x of pools) await x.end().catch(() => undefined);
    await oldPool?.end().catch(() => undefined);
    await pair?.dispose();
  }
};

export const r10 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  // The small version (npm test): one synchronous promotion with a few runs.
  // CHAOS_R10_MODES=async (or sync) runs one mode only, e.g. to reproduce a failure of it.
  const only = process.env.CHAOS_R10_MODES;
  const modes = (ctx.small ? [true] : [true, false]).filter(
    (sync) => only === undefined || only === '' || only === (sync ? 'sync' : 'async'),
  );
  const figures: Figure[] = [];
  const failures: string[] = [];
  for (const synchronous of modes) {
    const r = await runMode(ctx, synchronous);
    figures.push(...r.figures);
    failures.push(...r.failures);
  }
  return {
    id: 'R10',
    title: 'failover: primary killed (kill -9), streaming replica promoted, workers on a two-host URL',
    figures,
    failures,
    ms: Date.now() - t0,
  };
};
