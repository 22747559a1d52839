/**
 * R15: no polling while runs sleep (issue 19 item 1). A throwaway cluster of its own with
 * pg_stat_statements loaded (shared_preload_libraries needs a restart, which the shared chaos
 * cluster must not take); three `orbit worker` processes. Every statement the database executes
 * is counted over one minute with no run at all, then 10,000 runs (200 and 10 s windows with
 * --small) are put to sleep for an hour, and counted again over an equal window once every run
 * sleeps. The workers' housekeeping (lease renewals, registry heartbeats: a fixed rate per
 * process) is in both windows; a statement that polled for sleeping runs would grow with their
 * number. Must hold: the statements in the window with sleepers are those of the idle window
 * (within the jitter of the periodic timers), no event is journaled during it, every run still
 * sleeps afterwards (none woke early, none was taken for interrupted).
 */
import * as E from 'fp-ts/Either';
import { Pool } from 'pg';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/api/runPipeline';
import type { Pipeline } from '../../src/pipeline/types';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { startCluster, type Cluster } from './cluster';
import { orbit, prepareSchema, sleep, waitUntil, PIPELINES, type Proc } from './context';
import type { Ctx, Figure, ScenarioResult } from './context';

/** Statement text (normalised by pg_stat_statements: constants are $n) → calls. */
type Counts = Map<string, number>;

const WORKERS = 3;

const newPool = (cluster: Cluster): Pool => {
  const p = new Pool({ connectionString: cluster.url, max: 2, application_name: 'chaos-r15' });
  p.on('error', () => undefined);
  return p;
};

const oneLine = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

/**
 * Every statement executed over `ms` by anyone but this measurement (whose only statements in the
 * window are the reset and the read, both naming pg_stat_statements).
 */
const countStatements = async (pool: Pool, ms: number): Promise<Counts> => {
  await pool.query('SELECT pg_stat_statements_reset()');
  await sleep(ms);
  const r = await pool.query<{ query: string; calls: string }>(
    `SELECT query, sum(calls)::bigint AS calls FROM pg_stat_statements
      WHERE query NOT ILIKE '%pg_stat_statements%' GROUP BY query`,
  );
  const out: Counts = new Map();
  for (const row of r.rows) {
    const k = oneLine(row.query);
    out.set(k, (out.get(k) ?? 0) + Number(row.calls));
  }
  return out;
};

const total = (c: Counts): number => [...c.values()].reduce((a, b) => a + b, 0);

/**
 * Puts the runs to sleep from this process (one client, 32 at a time): each is created, claimed
 * and executed up to its sleep by the library's executor, which suspends it and lets it go, as a
 * worker would. Queuing 10,000 runs for the workers instead costs each worker a deadline re-read
 * per run taken and per run suspended (their NOTIFYs), minutes on a 2-core machine, and measures
 * nothing more about a sleeping run.
 */
const putToSleep = async (client: OrbitClient, ids: readonly string[]): Promise<void> => {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      const r = await runPipeline('chaos-sleeper', {}, { client, runId: id, triggeredBy: 'chaos' });
      if (E.isLeft(r)) throw new Error(`runPipeline ${id}: ${formatError(r.left)}`);
      if (r.right.status !== 'sleeping') throw new Error(`run ${id} ended ${r.right.status} instead of sleeping`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
};

export const r15 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const n = ctx.small ? 200 : 10_000;
  const windowMs = ctx.small ? 10_000 : 60_000;
  const schema = `chaos_r15_${ctx.seed}`;
  const failures: string[] = [];
  const figures: Figure[] = [];
  const workers: Proc[] = [];
  const cluster = await startCluster('orbit-chaos-r15');
  let pool = newPool(cluster);
  let client: OrbitClient | undefined;
  try {
    await pool.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
    await pool.end();
    await cluster.restart();
    pool = newPool(cluster);
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const own: Ctx = { ...ctx, cluster, pool };
    await prepareSchema(own, schema);
    for (let i = 0; i < WORKERS; i++) {
      const w = orbit(own, schema, ['worker', '--concurrency', '16']);
      workers.push(w);
      if (!(await waitUntil('a worker to listen', async () => w.stdout().includes('listening on'), 30_000)))
        throw new Error(`a worker did not start listening within 30 s: ${w.stdout()}`);
    }
    // Past each worker's start-up statements (first sweep, stranded check, schedules).
    await sleep(2_000);
    ctx.log(`R15: counting statements for ${windowMs / 1000} s with no run`);
    const idle = await countStatements(pool, windowMs);

    const registry = createRegistry();
    for (const pl of require(PIPELINES) as Pipeline[]) registry.registerPipeline(pl);
    const c = await connect({ databaseUrl: cluster.url, schema, registry, migrate: false });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
    const ids = Array.from({ length: n }, (_, i) => `r15-${ctx.seed}-${i}`);
    const q0 = Date.now();
    ctx.log(`R15: putting ${n} runs to sleep`);
    await putToSleep(client, ids);
    // Its lease and its process are gone: the workers' housekeeping is all that is left.
    await client.close();
    client = undefined;
    const sleepingCount = async (): Promise<number> =>
      Number(
        (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".runs WHERE status = 'sleeping'`)).rows[0]?.n ?? 0,
      );
    const allAsleep = await waitUntil('every run to sleep', async () => (await sleepingCount()) === n, 60_000 + n * 50);
    const setupMs = Date.now() - q0;
    if (!allAsleep) throw new Error(`only ${await sleepingCount()} of ${n} runs were sleeping after ${setupMs} ms`);
    // Past the reactions to the last runs: the stranded-runs look 2 s after a run.queued, and
    // one wake-up per worker armed while it still held runs (a same-host owner's renewal is looked
    // at a second after it is due, a third of the 15 s lease): a timer only ever moves earlier, so
    // that one fires once, about 6 s after the last run was let go, and finds nothing to do.
    await sleep(8_000);
    const eventsBefore = Number(
      (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".run_events`)).rows[0]?.n ?? 0,
    );
    ctx.log(`R15: counting statements for ${windowMs / 1000} s with ${n} sleeping runs`);
    const asleep = await countStatements(pool, windowMs);
    const eventsDuring =
      Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".run_events`)).rows[0]?.n ?? 0) -
      eventsBefore;
    const stillAsleep = await sleepingCount();

    const perMinute = (x: number) => Math.round((x * 60_000) / windowMs);
    const a = total(idle);
    const b = total(asleep);
    figures.push(
      ['workers', `${WORKERS} × orbit worker --concurrency 16`],
      [`runs put to sleep (1 h), 32 at a time`, `${n} in ${(setupMs / 1000).toFixed(1)} s`],
      [`statements in ${windowMs / 1000} s, no run`, a],
      [`statements in ${windowMs / 1000} s, ${n} sleeping`, b],
      ['per minute, no run → sleeping', `${perMinute(a)} → ${perMinute(b)}`],
      [`extra statements per sleeping run per minute`, ((perMinute(b) - perMinute(a)) / n).toFixed(4)],
      ['events journaled during the window', eventsDuring],
      ['runs still sleeping after it', `${stillAsleep}/${n}`],
    );
    // Each statement, both windows: a periodic timer of each process shows in both.
    const keys = [...new Set([...idle.keys(), ...asleep.keys()])].sort(
      (x, y) => (asleep.get(y) ?? 0) + (idle.get(y) ?? 0) - (asleep.get(x) ?? 0) - (idle.get(x) ?? 0),
    );
    for (const k of keys) {
      const label = k.length > 90 ? `${k.slice(0, 87)}...` : k;
      figures.push([`  ${label}`, `${idle.get(k) ?? 0} → ${asleep.get(k) ?? 0}`]);
    }
    // A periodic statement may fire once more or less in a window, per process (and a renewal
    // may be followed by a retry): beyond that, something grew with the sleepers.
    const jitter = WORKERS * 4 + Math.ceil(a * 0.05);
    if (b > a + jitter)
      failures.push(`${b} statements with ${n} runs sleeping against ${a} with none (more than ${jitter} apart): polling`);
    if (eventsDuring !== 0) failures.push(`${eventsDuring} event(s) journaled while every run slept an hour`);
    if (stillAsleep !== n) failures.push(`${n - stillAsleep} run(s) no longer sleeping after the window`);
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
    await client?.close();
    await pool.end().catch(() => undefined);
    await cluster.dispose();
  }
  return { id: 'R15', title: `no polling while runs sleep`, figures, failures, ms: Date.now() - t0 };
};
