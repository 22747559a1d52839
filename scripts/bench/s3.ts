import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { detectInterruptedRuns } from '../../src/recovery/detectInterruptedRuns';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { checkSeededRuns } from './check';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { installSeedFunctions, seedJournal } from './seed';
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

/**
 * S3: detectInterruptedRuns on journals of 100k and 1M events, 1% of runs interrupted (owner
 * gone, no heartbeat), 0.5% running with a live owner (fresh heartbeat, long step), the rest
 * finished. The journal is seeded in SQL, grown from the small size to the large one in place.
 */
export const runS3 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const small = ctx.size(100_000, 5_000);
  const large = ctx.size(1_000_000, 50_000);
  const calls = ctx.opts.quick ? 10 : 30;
  const client = await ctx.client('s3');
  const pg = await ctx.raw();
  try {
    await installSeedFunctions(pg, client.db.schema);
    await pg.query(`INSERT INTO ${client.db.qs}.workers (id, host, pid) VALUES ($1, 'bench', 0)`, [LIVE_WORKER]);
    const seedTo = async (events: number, fromRun: number) => {
      const toRun = Math.round(events / EVENTS_PER_RUN) + 1;
      const t0 = nowMs();
      let written = 0;
      const batch = 20_000;
      for (let from = fromRun; from < toRun; from += batch) {
        written += await seedJournal(pg, client.db.schema, {
          from,
          to: Math.min(toRun, from + batch),
          prefix: 'r',
          shape: { mode: 'linear', pipeline: 'bench-s3', steps: 5 },
          lastSeqSql: `CASE WHEN ${INTERRUPTED} OR ${LIVE} THEN 6 + (g / 100) % 2 ELSE 13 END`,
          doneSql: `NOT (${INTERRUPTED} OR ${LIVE})`,
          ownerSql: `CASE WHEN ${LIVE} THEN '${LIVE_WORKER}' ELSE 'bench-dead-worker:' || (g % 7) END`,
          baseSql: `now() - interval '3 days'`,
          spacingMs: 1000,
        });
      }
      await pg.query(`ANALYZE ${client.db.qs}.run_events, ${client.db.qs}.runs, ${client.db.qs}.steps`);
      const ms = nowMs() - t0;
      ctx.log(`S3: seeded ${written.toLocaleString('en-US')} events (${toRun - fromRun} runs) in ${(ms / 1000).toFixed(1)} s`);
      return { toRun, written, ms };
    };

    const first = await seedTo(small, 1);
    const sample = (n: number) => `r-${String(n).padStart(8, '0')}`;
    await checkSeededRuns(client.db, [sample(1), sample(2), sample(100), sample(200), sample(50), sample(250)]);
    const totalSmall = Number((await pg.query(`SELECT count(*) AS n FROM ${client.db.qs}.run_events`)).rows[0].n);
    const atSmall = await measure(client, calls);
    ctx.log(`S3: ${totalSmall.toLocaleString('en-US')} events: ${atSmall.ms.toFixed(2)} ms per call (${atSmall.found} interrupted runs)`);

    const second = await seedTo(large, first.toRun);
    const totalLarge = Number((await pg.query(`SELECT count(*) AS n FROM ${client.db.qs}.run_events`)).rows[0].n);
    const atLarge = await measure(client, calls);
    // Same journal, but asking for as many runs as the small journal had: isolates the journal's length.
    const atLargeSameRows = await measure(client, calls, Math.max(1, atSmall.found));
    ctx.log(
      `S3: ${totalLarge.toLocaleString('en-US')} events: ${atLarge.ms.toFixed(2)} ms per call (${atLarge.found} interrupted runs); ` +
        `${atLargeSameRows.ms.toFixed(2)} ms for the first ${atSmall.found}`,
    );
    const ratio = atLarge.ms / atSmall.ms;
    return {
      id: 'S3',
      title: `detectInterruptedRuns, ${Math.round(totalSmall / 1000)}k and ${Math.round(totalLarge / 1000)}k events`,
      figure: `ms per call (${Math.round(totalLarge / 1000)}k events)`,
      value: atLarge.ms,
      ratio,
      goal: 'each < 50 ms; large <= 1.5x small',
      met: atSmall.ms < 50 && atLarge.ms < 50 && ratio <= 1.5,
      details: {
        events_small: totalSmall,
        events_large: totalLarge,
        ms_small: atSmall.ms,
        ms_large: atLarge.ms,
        p90_small: atSmall.p90,
        p90_large: atLarge.p90,
        interrupted_small: atSmall.found,
        interrupted_large: atLarge.found,
        ms_large_same_result_size: atLargeSameRows.ms,
        ratio_same_result_size: atLargeSameRows.ms / atSmall.ms,
        note:
          'with 1% of runs interrupted the large journal has 10x the interrupted runs to return; ' +
          'ratio_same_result_size (large journal, limit = small count) isolates the journal length',
        seed_events_per_s: ((first.written + second.written) / (first.ms + second.ms)) * 1000,
      },
    };
  } finally {
    await pg.end();
  }
};
