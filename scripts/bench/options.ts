/**
 * Command-line options of `npm run bench`. Sizes are the full sizes times `scale`;
 * `--quick` is `--scale 0.1` with fewer repetitions and shorter baseline windows (CI runs it).
 */
export interface BenchOptions {
  /** Multiplies every scenario's size. Default 1 (0.1 with --quick). */
  readonly scale: number;
  readonly quick: boolean;
  /** Interleaved repetitions of baseline + S1/S2 (ratios are medians of pairs). Default 3 (1 quick). */
  readonly repeat: number;
  /** Seconds of each baseline window. Default 5 (1.5 quick). */
  readonly baselineSeconds: number;
  /** Scenario ids to run, e.g. ['S1', 'S3']; empty means all. */
  readonly only: readonly string[];
  /** Keep the bench schemas (to EXPLAIN ANALYZE afterwards) instead of dropping them. */
  readonly keep: boolean;
  /** Wins over DATABASE_URL; with neither, the embedded server under ./.orbit is used. */
  readonly databaseUrl: string | undefined;
  /** Orchestrator concurrency of S4. Default 16 (the CLI's default is 4; S4 also reports it). */
  readonly recoverConcurrency: number;
  /** Where results.json goes. Default bench/results.json at the repository root. */
  readonly out: string | undefined;
  /** S8: one queued run every this many ms. Default 20. */
  readonly s8PaceMs: number;
  /** Also measure DBOS Transact and graphile-worker's S1/S2 in the same baseline windows. */
  readonly peers: boolean;
  /** S1 and S2 (same windows) and S3 also on the journal as it was before partitioning (migration 014). */
  readonly unpartitioned: boolean;
  /** S1 and S2 also without migration 022's metadata search index, in the same windows. */
  readonly noSearchIndex: boolean;
}

const USAGE = `usage: npm run bench -- [--quick] [--scale X] [--repeat N] [--only S1,S3,...]
                       [--baseline-seconds S] [--recover-concurrency N] [--database-url URL]
                       [--peers] [--unpartitioned] [--no-search-index] [--s8-pace MS] [--keep] [--out FILE]

  --quick            scale 0.1, one repetition, short baseline windows (CI; under a minute)
  --scale X          multiply every scenario's size by X (default 1: the issue's sizes)
  --repeat N         interleaved baseline/S1/S2 repetitions (default 3; 1 with --quick)
  --only LIST        run only these scenarios (the baseline runs when S1 or S2 does)
                     ids: S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 UI A1 (and BASELINE)
  --unpartitioned    S1 and S2 also on a one-table journal (as before migration 014), in the same
                     baseline windows, and S3's curve also on one: the partitioned journal's
                     before/after figures
  --no-search-index  S1 and S2 also without the metadata search index (migration 022), in the
                     same baseline windows: what the index costs each step
  --peers            also run DBOS Transact and graphile-worker's S1/S2 in the same baseline
                     windows (installed into scripts/bench/peers/ with npm ci on first use;
                     skipped with one line if that fails). Not part of --quick
  --s8-pace MS       S8 queues one run every MS ms (default 20: 50 runs/s)
  --scale 10         S3 on a 10M-event journal too (seeded in SQL; allow a few minutes); A1
                     archives 1M runs / 11M events (allow an hour on 2 cores)
  --keep             keep the bench schemas for inspection (EXPLAIN ANALYZE); drop them yourself
  Profiling: node --cpu-prof dist-scripts/scripts/bench/main.js --only S1`;

export const parseOptions = (argv: readonly string[]): BenchOptions => {
  const args = [...argv];
  let scale: number | undefined;
  let quick = false;
  let repeat: number | undefined;
  let baselineSeconds: number | undefined;
  let only: string[] = [];
  let keep = false;
  let databaseUrl: string | undefined;
  let recoverConcurrency = 16;
  let out: string | undefined;
  let peers = false;
  let unpartitioned = false;
  let noSearchIndex = false;
  let s8PaceMs = 20;
  const value = (flag: string): string => {
    const v = args.shift();
    if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  const number = (flag: string, min: number): number => {
    const n = Number(value(flag));
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number >= ${min}\n${USAGE}`);
    return n;
  };
  while (args.length > 0) {
    const raw = args.shift() as string;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    if (inline !== undefined) args.unshift(inline);
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--scale':
        scale = number(flag, 0.001);
        break;
      case '--repeat':
        repeat = Math.round(number(flag, 1));
        break;
      case '--baseline-seconds':
        baselineSeconds = number(flag, 0.2);
        break;
      case '--only':
        only = value(flag).split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
        break;
      case '--keep':
        keep = true;
        break;
      case '--database-url':
        databaseUrl = value(flag);
        break;
      case '--recover-concurrency':
        recoverConcurrency = Math.round(number(flag, 1));
        break;
      case '--out':
        out = value(flag);
        break;
      case '--s8-pace':
        s8PaceMs = number(flag, 0);
        break;
      case '--unpartitioned':
        unpartitioned = true;
        break;
      case '--no-search-index':
        noSearchIndex = true;
        break;
      case '--peers':
        peers = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${raw}\n${USAGE}`);
    }
  }
  // CI runs --quick: it must stay short, and must not depend on installing the peers.
  if (quick && peers) throw new Error(`--peers is not available with --quick\n${USAGE}`);
  return {
    scale: scale ?? (quick ? 0.1 : 1),
    quick,
    repeat: repeat ?? (quick ? 1 : 3),
    baselineSeconds: baselineSeconds ?? (quick ? 1.5 : 5),
    only,
    keep,
    databaseUrl,
    recoverConcurrency,
    out,
    peers,
    unpartitioned,
    noSearchIndex,
    s8PaceMs,
  };
};
