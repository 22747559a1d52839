import { hostname } from 'node:os';
import * as E from 'fp-ts/Either';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { Worker } from '../../src/worker/worker';
import { readNextDeadlines } from '../../src/queries/readNextDeadlines';
import { readRunDeadlines } from '../../src/queries/readRunDeadlines';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { measureCpu, trackBackends } from './cpu';
import { median, nowMs, sleep, timed } from './stats';

/** Workers listening, as `orbit worker` processes would (in process here, each with its own client). */
const WORKERS = 3;

/** Counts and times every statement a client's pool sends. */
const meter = (c: OrbitClient): { count: number; ms: number; inFlight: number; by: Map<string, number> } => {
  const m = { count: 0, ms: 0, inFlight: 0, by: new Map<string, number>() };
  const pool = c.db.pool as unknown as { query: (...args: unknown[]) => Promise<unknown> };
  const original = pool.query.bind(pool);
  pool.query = async (...args: unknown[]) => {
    const t = nowMs();
    m.inFlight += 1;
    try {
      return await original(...args);
    } finally {
      const arg = args[0] as string | { text: string };
      const text = (typeof arg === 'string' ? arg : arg.text).replace(/\s+/g, ' ').slice(0, 70);
      m.inFlight -= 1;
      m.count += 1;
      m.ms += nowMs() - t;
      m.by.set(text, (m.by.get(text) ?? 0) + 1);
      if (process.env.S11_DEBUG) console.log(`${(nowMs() - t).toFixed(1)} ms ${text}`);
    }
  };
  return m;
};

/** Until no worker has had a statement in flight or sent one for half a second. */
const quiet = async (meters: readonly { count: number; inFlight: number }[]): Promise<void> => {
  let still = 0;
  let last = -1;
  while (still < 5) {
    await sleep(100);
    const n = meters.reduce((a, m) => a + m.count, 0);
    still = n === last && meters.every((m) => m.inFlight === 0) ? still + 1 : 0;
    last = n;
  }
};

/** What a worker reads to schedule its next wake-up after a sweep (before 2026-12-08: three statements, and on every NOTIFY). */
const readDeadlines = async (c: OrbitClient): Promise<void> => {
  await readNextDeadlines(c.db, c.thresholdMs, hostname(), c.workerId);
};

/**
 * S11, deadline re-reads under load: N runs executing under the leases of three (simulated)
 * processes and a deep queue of Q runs no worker here can execute, three listening workers, and
 * a stream of `lease.taken` NOTIFYs (one per 20 ms, as other processes taking runs would send).
 * What each notification costs the listening workers: statements and their wall time, per
 * notification and worker.
 */
export const runS11 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const running = ctx.size(2_000, 500);
  const queued = ctx.size(20_000, 2_000);
  const notifications = ctx.size(200, 50);
  const seed = await ctx.client('s11');
  const db = seed.db;
  // Runs held by three processes on another host, leases valid for the whole scenario.
  await db.pool.query(
    `INSERT INTO ${db.qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
                                owner, recovery_count, last_seq, last_event_at)
     SELECT 'r' || i, 'bench-s11', 'running', 'queue:bench', '{}', 'h', '[]', now(), 'w' || (i % 3), 0, 3, now()
       FROM generate_series(1, $1) i`,
    [running],
  );
  await db.pool.query(
    `INSERT INTO ${db.qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
                                owner, recovery_count, last_seq, last_event_at)
     SELECT 'q' || i, 'bench-s11-elsewhere', 'pending', 'queue:bench', '{}', 'h', '[]', now(), NULL, 0, 1, now()
       FROM generate_series(1, $1) i`,
    [queued],
  );
  await db.pool.query(
    `INSERT INTO ${db.qs}.workers (id, host, pid, lease_until, held)
     SELECT 'w' || k, 'bench-elsewhere', 1, now() + interval '1 hour',
            (SELECT array_agg('r' || i) FROM generate_series(1, $1) i WHERE i % 3 = k)
       FROM generate_series(0, 2) k`,
    [running],
  );
  await db.pool.query(`ANALYZE ${db.qs}.runs`);
  await db.pool.query(`ANALYZE ${db.qs}.workers`);

  // Every backend the workers open from here on is known before the measured window.
  trackBackends();
  const workers: Worker[] = [];
  const meters: ReturnType<typeof meter>[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const c = await ctx.client('s11');
    meters.push(meter(c));
    const w = new Worker({ client: c, concurrency: 4 });
    const started = await w.start();
    if (E.isLeft(started)) throw new Error(`S11: worker did not start: ${started.left._tag}`);
    workers.push(w);
  }
  try {
    // Start-up (sweep, claim, registration, the stranded-runs check) settles.
    await sleep(1_000);
    await quiet(meters);
    for (const m of meters) {
      m.count = 0;
      m.ms = 0;
    }
    const t0 = nowMs();
    const { cpu } = await measureCpu(async () => {
      for (let i = 0; i < notifications; i++) {
        await db.pool.query(`SELECT pg_notify($1, $2)`, [
          db.channel,
          JSON.stringify({ run_id: `r${1 + (i % running)}`, seq: 0, type: 'lease.taken' }),
        ]);
        await sleep(20);
      }
      await quiet(meters);
    });
    const seconds = (nowMs() - t0) / 1000 - 0.5;
    const statements = meters.reduce((a, m) => a + m.count, 0);
    const ms = meters.reduce((a, m) => a + m.ms, 0);
    // One worker's full deadline read, timed alone (nothing else in flight).
    const alone: number[] = [];
    for (let i = 0; i < 10; i++) alone.push((await timed(() => readDeadlines(seed))).ms);
    const oneRun: number[] = [];
    for (let i = 0; i < 10; i++) oneRun.push((await timed(() => readRunDeadlines(seed.db, ['r1'], seed.thresholdMs, hostname(), seed.workerId))).ms);
    const perNotification = (cpu.serverMs ?? NaN) / notifications;
    ctx.log(
      `S11: ${notifications} lease.taken in ${seconds.toFixed(1)} s (until quiet) to ${WORKERS} workers: ${statements} statements ` +
        `(${[...new Set(meters.flatMap((m) => [...m.by.keys()]))].length} kinds), ${ms.toFixed(0)} ms of statement wall time; ` +
        `server CPU ${cpu.serverMs ?? '?'} ms, Node CPU ${cpu.nodeMs.toFixed(0)} ms; a full deadline read alone: ${median(alone).toFixed(2)} ms, one run's: ${median(oneRun).toFixed(2)} ms`,
    );
    return {
      id: 'S11',
      title: `${running} runs executing, ${queued} queued, ${WORKERS} workers: cost of a lease.taken`,
      figure: 'server CPU ms per notification (3 workers)',
      value: perNotification,
      ratio: null,
      goal: 'independent of the runs executing and queued',
      met: true,
      details: {
        running,
        queued,
        notifications,
        workers: WORKERS,
        statements,
        statements_per_notification_per_worker: statements / notifications / WORKERS,
        statement_wall_ms: ms,
        stream_seconds: seconds,
        server_cpu_ms: cpu.serverMs,
        node_cpu_ms: cpu.nodeMs,
        deadline_read_alone_ms_median: median(alone),
        run_deadline_read_ms_median: median(oneRun),
      },
    };
  } finally {
    for (const w of workers) await w.stop();
  }
};
