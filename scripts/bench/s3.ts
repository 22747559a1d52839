import * as E from 'fp-ts/Either';
import type { Client } from 'pg';
import { formatError } from '../../src/errors';
import { detectInterruptedRuns } from '../../src/api/detectInterruptedRuns';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { checkSeededRuns } from './check';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { installSeedFunctions, seedJournal, withIndexesDeferred } from './seed';
import { unpartitionJournal } from './unpartitioned';
import { median, nowMs, percentile } from './stats';

/** Runs of 5 steps: 13 events when finished, 6 or 7 when interrupted. ~12.9 events per run on average. */
const EVENTS_PER_RUN = 12.9;
const LIVE_WORKER = 'bench-live-worker';
const INTERRUPTED = 'g % 100 = 0';
/** PostgreSQL plans a prepared statement afresh for its first five executions: measure after them. */
const WARMUP = 6;
const LIVE = 'g % 200 = 50';

const measure = async (client: OrbitClient, calls: number, limit?: number) => {
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < calls + WARMUP; i++) {
    const t0 = nowMs();
    const r = await detectInterruptedRuns({ client, limit });
    const ms = nowMs() - t0;
    if (E.isLeft(r)) throw new Error(`S3 detect failed: ${formatError(r.left)}`);
    found = r.right.length;
    if (i >= WARMUP) times.push(ms);
  }
  return { ms: median(times), p90: percentile(times, 90), found };
};

interface Point {
  readonly events: number;
  readonly seedMs: number;
  readonly written: number;
  /** Every interrupted run (what `orbit check-interrupted` asks for). */
  readonly all: Awaited<ReturnType<typeof measure>>;
  /** `limit` = the smallest journal's count: the same number of runs returned at every size. */
  readonly same: Awaited<ReturnType<typeof measure>>;
}

/**
 * S3: detectInterruptedRuns on journals of 100k and 1M events (and 10M with `--scale 10`), 1% of
 * runs interrupted (owner gone, no lease), 0.5% running under live leases (8 runs per worker, a
 * fresh lease), the rest finished. The journal is seeded in SQL and grown in place from one size
 * to the next. The goal is about the journal's length, so the bar is the same-result-size ratio:
 * at 1M with `limit` = the 100k count, over 100k (<= 1.5), and < 50 ms per call at 1M (all runs).
 */
export const runS3 = async (ctx: BenchContext): Promise<ScenarioResult[]> => {
  const partitioned = await runS3On(ctx, 'partitioned');
  // --unpartitioned: the same curve on a one-table journal (as before migration 014), same run.
  return ctx.opts.unpartitioned ? [partitioned, await runS3On(ctx, 'unpartitioned')] : [partitioned];
};

const runS3On = async (ctx: BenchContext, layout: 'partitioned' | 'unpartitioned'): Promise<ScenarioResult> => {
  const base = Math.min(1, ctx.opts.scale);
  const sizes = [Math.max(5_000, Math.round(100_000 * base)), Math.max(50_000, Math.round(1_000_000 * base))];
  if (ctx.opts.scale > 1) sizes.push(Math.round(1_000_000 * ctx.opts.scale));
  const calls = ctx.opts.quick ? 10 : 30;
  const client = await ctx.client(layout === 'partitioned' ? 's3' : 's3u');
  const pg = await ctx.raw();
  try {
    await installSeedFunctions(pg, client.db.schema);
    // Run ids as Orbit makes them (`run_<creation ms in base 36>…`), all of one month: on the
    // partitioned journal they sit in that month's partition, as a month of real runs does.
    await pg.query(`SELECT ${client.db.qs}.journal_add_partitions(now() - interval '3 days', 1)`);
    const prefix = (await pg.query<{ p: string }>(`SELECT ${client.db.qs}.run_id_at(now() - interval '3 days') AS p`)).rows[0]?.p ?? 'r';
    if (layout === 'unpartitioned') await unpartitionJournal(client.db.pool, client.db.schema);
    const seedTo = async (events: number, fromRun: number) => {
      const toRun = Math.round(events / EVENTS_PER_RUN) + 1;
      const t0 = nowMs();
      let written = 0;
      const batch = 20_000;
      // Two connections, so that both cores hash and insert (the seed is CPU-bound, not I/O-bound).
      const extra = await ctx.raw();
      try {
        let next = fromRun;
        const lane = async (conn: Client) => {
          while (next < toRun) {
            const from = next;
            next += batch;
            const n = await seedJournal(conn, client.db.schema, {
              from,
              to: Math.min(toRun, from + batch),
              prefix,
              shape: { mode: 'linear', pipeline: 'bench-s3', steps: 5 },
              lastSeqSql: `CASE WHEN ${INTERRUPTED} OR ${LIVE} THEN 6 + (g / 100) % 2 ELSE 13 END`,
              doneSql: `NOT (${INTERRUPTED} OR ${LIVE})`,
              // A live worker holds 8 runs (one per 200 run numbers, over 1,600): a realistic lease.
              ownerSql: `CASE WHEN ${LIVE} THEN '${LIVE_WORKER}:' || (g / 1600) ELSE 'bench-dead-worker:' || (g % 7) END`,
              baseSql: `now() - interval '3 days'`,
              spacingMs: 1000,
            });
            written += n;
          }
        };
        await withIndexesDeferred(pg, client.db.schema, ['run_events', 'runs', 'steps'], () => Promise.all([lane(pg), lane(extra)]));
      } finally {
        await extra.end();
      }
      // The live workers' leases: valid for a day, each naming exactly the runs it holds.
      await pg.query(
        `INSERT INTO ${client.db.qs}.workers AS w (id, host, pid, lease_until, held)
         SELECT owner, 'bench', 0, now() + interval '1 day', array_agg(id ORDER BY id)
           FROM ${client.db.qs}.runs WHERE status = 'running' AND owner LIKE $1 GROUP BY owner
         ON CONFLICT (id) DO UPDATE SET held = EXCLUDED.held, lease_until = EXCLUDED.lease_until`,
        [`${LIVE_WORKER}:%`],
      );
      await pg.query(`ANALYZE ${client.db.qs}.run_events, ${client.db.qs}.runs, ${client.db.qs}.steps, ${client.db.qs}.workers`);
      const ms = nowMs() - t0;
      ctx.log(`S3: seeded ${written.toLocaleString('en-US')} events (${toRun - fromRun} runs) in ${(ms / 1000).toFixed(1)} s`);
      return { toRun, written, ms };
    };

    const points: Point[] = [];
    let nextRun = 1;
    for (const size of sizes) {
      const seeded = await seedTo(size, nextRun);
      nextRun = seeded.toRun;
      if (points.length === 0) {
        const sample = (n: number) => `${prefix}-${String(n).padStart(8, '0')}`;
        await checkSeededRuns(client.db, [sample(1), sample(2), sample(100), sample(200), sample(50), sample(250)]);
      }
      const events = Number((await pg.query(`SELECT count(*) AS n FROM ${client.db.qs}.run_events`)).rows[0].n);
      const all = await measure(client, calls);
      const same = points.length === 0 ? all : await measure(client, calls, Math.max(1, (points[0] as Point).all.found));
      points.push({ events, seedMs: seeded.ms, written: seeded.written, all, same });
      ctx.log(
        `S3: ${events.toLocaleString('en-US')} events: ${all.ms.toFixed(2)} ms per call (${all.found} interrupted runs)` +
          (points.length > 1 ? `; ${same.ms.toFixed(2)} ms for the first ${same.found}` : ''),
      );
    }
    const [small, mid] = points as [Point, Point];
    const large = points[2];
    const k = (n: number) => (n >= 950_000 ? `${+(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1000)}k`);
    const ratioSame = mid.same.ms / small.all.ms;
    const seedWritten = points.reduce((a, p) => a + p.written, 0);
    const seedMs = points.reduce((a, p) => a + p.seedMs, 0);
    const where = layout === 'partitioned' ? `one month's partition` : 'one-table journal (before 014)';
    return {
      id: layout === 'partitioned' ? 'S3' : 'S3-unpartitioned',
      title: `detectInterruptedRuns, ${points.map((p) => k(p.events)).join(' / ')} events, ${where}`,
      figure: `ms per call (${k(mid.events)} events)`,
      value: mid.all.ms,
      ratio: ratioSame,
      goal: `< 50 ms; ${k(mid.events)} <= 1.5x ${k(small.events)} at equal result size`,
      met: small.all.ms < 50 && mid.all.ms < 50 && ratioSame <= 1.5,
      details: {
        events_small: small.events,
        events_large: mid.events,
        ms_small: small.all.ms,
        ms_large: mid.all.ms,
        p90_small: small.all.p90,
        p90_large: mid.all.p90,
        interrupted_small: small.all.found,
        interrupted_large: mid.all.found,
        ms_large_same_result_size: mid.same.ms,
        ratio_same_result_size: ratioSame,
        ratio_all_interrupted: mid.all.ms / small.all.ms,
        ...(large
          ? {
              events_10x: large.events,
              ms_10x: large.all.ms,
              p90_10x: large.all.p90,
              interrupted_10x: large.all.found,
              ms_10x_same_result_size: large.same.ms,
              ratio_10x_same_result_size: large.same.ms / small.all.ms,
              seed_10x_s: large.seedMs / 1000,
            }
          : {}),
        note:
          'ratio = same result size (limit = the small journal\'s count), the journal length alone; ' +
          'with 1% of runs interrupted a 10x journal also has 10x the runs to return (ratio_all_interrupted)',
        seed_events_per_s: (seedWritten / seedMs) * 1000,
      },
    };
  } finally {
    await pg.end();
  }
};
