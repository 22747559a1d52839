/**
 * What every chaos scenario shares: the throwaway cluster, a seeded random source, spawning the
 * real `orbit` CLI and chaos worker processes, the ledger tables, and the invariant checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { Pool } from 'pg';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { migrate } from '../../src/migrations/migrate';
import { formatError } from '../../src/errors';
import { verifyJournal } from '../../src/journal/verifyJournal';
import { checkProjections } from '../../src/projections/checkProjections';
import type { Cluster } from './cluster';

/** The repository root (this file runs from scripts/chaos and from dist-scripts/scripts/chaos). */
export const REPO_ROOT = ((): string => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist-scripts') dir = path.dirname(dir);
  return dir;
})();
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
export const CHILD = path.join(REPO_ROOT, 'scripts', 'chaos', 'child.js');
export const PIPELINES = path.join(REPO_ROOT, 'scripts', 'chaos', 'pipelines.js');

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<A>(xs: readonly A[]): A {
    return xs[Math.floor(this.next() * xs.length)] as A;
  }
}

export interface Ctx {
  readonly cluster: Cluster;
  readonly seed: number;
  readonly rng: Rng;
  /** Small numbers (the version `npm test` runs). */
  readonly small: boolean;
  /** A pool on the cluster for checks and fault injection (application_name chaos). */
  readonly pool: Pool;
  readonly log: (line: string) => void;
}

export type Figure = readonly [string, string | number];

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly figures: readonly Figure[];
  /** Broken invariants, each one line. Empty: the scenario passed. */
  readonly failures: readonly string[];
  readonly ms: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>;
  readonly stdout: () => string;
}

const track = (child: ChildProcess): Proc => {
  let out = '';
  let err = '';
  const t0 = Date.now();
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>(
    (resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - t0 })),
  );
  return { child, done, stdout: () => out };
};

/** Environment of every process the harness starts: the ledger, no ORBIT_* from the caller. */
export const childEnv = (ctx: Ctx, schema: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORBIT_') && !k.startsWith('CHAOS_')) env[k] = v;
  return {
    ...env,
    DATABASE_URL: ctx.cluster.url,
    CHAOS_LEDGER_URL: ctx.cluster.url,
    CHAOS_LEDGER_SCHEMA: ledgerSchema(schema),
    NO_COLOR: '1',
    ...extra,
  };
};

/** `orbit --schema <schema> --pipelines scripts/chaos/pipelines.js <args>` as a real process. */
export const orbit = (
  ctx: Ctx,
  schema: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; pipelines?: boolean } = {},
): Proc =>
  track(
    spawn(process.execPath, [CLI, '--schema', schema, ...(opts.pipelines === false ? [] : ['--pipelines', PIPELINES]), ...args], {
      cwd: REPO_ROOT,
      env: childEnv(ctx, schema, opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );

export interface RunSpec {
  readonly id: string;
  readonly pipeline: string;
  readonly metadata: unknown;
}

/** A chaos worker process running `runs` with the library, `concurrency` at a time. */
export const worker = (
  ctx: Ctx,
  schema: string,
  runs: readonly RunSpec[],
  concurrency: number,
  url = ctx.cluster.url,
  env: Record<string, string> = {},
): Proc =>
  track(
    spawn(process.execPath, [CHILD], {
      cwd: REPO_ROOT,
      env: childEnv(ctx, schema, { ...env, CHAOS_SPEC: JSON.stringify({ url, schema, concurrency, runs }) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );

/** A run of chaos-4 … chaos-10 with short random sleeps per step. */
export const randomRun = (ctx: Ctx, id: string, sleepMs: readonly [number, number] = [5, 60]): RunSpec => {
  const n = ctx.rng.int(4, 10);
  return {
    id,
    pipeline: `chaos-${n}`,
    metadata: { sleeps: Array.from({ length: n }, () => ctx.rng.int(sleepMs[0], sleepMs[1])) },
  };
};

export const ledgerSchema = (schema: string): string => `${schema}_ledger`;

/** The ledger tables of a scenario (executions: one row per execution; ledger: one effect per idempotency key). */
export const createLedger = async (pool: Pool, schema: string): Promise<void> => {
  const l = `"${ledgerSchema(schema)}"`;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${l}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${l}.executions (id bigserial PRIMARY KEY, run_id text NOT NULL, step text NOT NULL, key text NOT NULL)`,
  );
  await pool.query(`CREATE TABLE IF NOT EXISTS ${l}.ledger (key text PRIMARY KEY, run_id text NOT NULL, step text NOT NULL)`);
};

/** Creates the Orbit schema (the migrations, in-process: one process fewer) and the ledger tables of a scenario. */
export const prepareSchema = async (ctx: Ctx, schema: string): Promise<void> => {
  await createLedger(ctx.pool, schema);
  const db = openDb(ctx, schema);
  try {
    const m = await migrate(db);
    if (E.isLeft(m)) throw new Error(`migrations failed: ${formatError(m.left)}`);
  } finally {
    await closeDatabase(db);
  }
};

export const openDb = (ctx: Ctx, schema: string): Database => {
  const d = openDatabase({ url: ctx.cluster.url, schema, max: 4, applicationName: 'chaos' });
  if (E.isLeft(d)) throw new Error(formatError(d.left));
  return d.right;
};

/** Statuses of the given runs (absent runs are missing from the map). */
export const statuses = async (ctx: Ctx, schema: string, ids: readonly string[]): Promise<Map<string, string>> => {
  const r = await ctx.pool.query<{ id: string; status: string }>(`SELECT id, status FROM "${schema}".runs WHERE id = ANY($1)`, [
    ids,
  ]);
  return new Map(r.rows.map((x) => [x.id, x.status]));
};

export const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
};

export interface JournalCheck {
  readonly figures: Figure[];
  readonly failures: string[];
  readonly counts: { lost: number; doubleSuccesses: number; reExecuted: number };
}

const one = async (ctx: Ctx, sql: string, ids: readonly string[]): Promise<number> =>
  Number((await ctx.pool.query<{ n: string }>(sql, [ids])).rows[0]?.n ?? 0);

/**
 * The invariants of DESIGN.md over a set of runs: every run succeeded (nothing lost), no step
 * succeeded twice, seqs 1..n with no gap, one ledger effect per step and none missing, the hash
 * chain intact, projections equal to the fold of the journal.
 */
export const checkJournal = async (
  ctx: Ctx,
  schema: string,
  ids: readonly string[],
  opts: { expectSuccess?: boolean; checkLedger?: boolean } = {},
): Promise<JournalCheck> => {
  const s = `"${schema}"`;
  const l = `"${ledgerSchema(schema)}"`;
  const st = await statuses(ctx, schema, ids);
  const lost = ids.filter((id) => st.get(id) !== 'success').length;
  const doubleSuccesses = await one(
    ctx,
    `SELECT count(*) AS n FROM (SELECT 1 FROM ${s}.run_events WHERE type = 'step.succeeded' AND run_id = ANY($1)
       GROUP BY run_id, step_name HAVING count(*) > 1) x`,
    ids,
  );
  const seqGaps = await one(
    ctx,
    `SELECT count(*) AS n FROM (SELECT 1 FROM ${s}.run_events WHERE run_id = ANY($1)
       GROUP BY run_id HAVING max(seq) <> count(*) OR min(seq) <> 1) x`,
    ids,
  );
  const checkLedger = opts.checkLedger !== false;
  const ledgerDoubles = checkLedger
    ? await one(
        ctx,
        `SELECT count(*) AS n FROM (SELECT 1 FROM ${l}.ledger WHERE run_id = ANY($1) GROUP BY run_id, step HAVING count(*) > 1) x`,
        ids,
      )
    : 0;
  const missingEffects = checkLedger
    ? await one(
        ctx,
        `SELECT count(*) AS n FROM ${s}.run_events e WHERE e.type = 'step.succeeded' AND e.run_id = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM ${l}.ledger g WHERE g.run_id = e.run_id AND g.step = e.step_name)`,
        ids,
      )
    : 0;
  const reExecuted = checkLedger
    ? await one(ctx, `SELECT count(*) - count(DISTINCT (run_id, step)) AS n FROM ${l}.executions WHERE run_id = ANY($1)`, ids)
    : 0;
  const db = openDb(ctx, schema);
  let hashBreaks = -1;
  let projectionDiffs = -1;
  try {
    const v = await verifyJournal(db);
    hashBreaks = E.isRight(v) ? v.right.length : -1;
    const p = await checkProjections(db, [...ids]);
    projectionDiffs = E.isRight(p) ? p.right.differences.length : -1;
  } finally {
    await closeDatabase(db);
  }
  const failures: string[] = [];
  if (opts.expectSuccess !== false && lost > 0) {
    const sample = ids.filter((id) => st.get(id) !== 'success').slice(0, 3);
    failures.push(
      `${lost} run(s) did not succeed (e.g. ${sample.map((id) => `${id}: ${st.get(id) ?? 'never created'}`).join(', ')})`,
    );
  }
  if (doubleSuccesses > 0) failures.push(`${doubleSuccesses} step(s) succeeded twice in the journal`);
  if (seqGaps > 0) failures.push(`${seqGaps} run(s) with a seq gap`);
  if (ledgerDoubles > 0) failures.push(`${ledgerDoubles} step(s) with two ledger effects (unstable idempotency key)`);
  if (missingEffects > 0) failures.push(`${missingEffects} succeeded step(s) without their ledger effect`);
  if (hashBreaks !== 0) failures.push(`hash chain: ${hashBreaks < 0 ? 'verify failed' : `${hashBreaks} break(s)`}`);
  if (projectionDiffs !== 0)
    failures.push(`projections: ${projectionDiffs < 0 ? 'check failed' : `${projectionDiffs} difference(s) from the fold`}`);
  return {
    figures: [
      ['lost', lost],
      ['double successes', doubleSuccesses],
      ['seq gaps', seqGaps],
      ...(checkLedger
        ? ([
            ['double effects', ledgerDoubles],
            ['re-executed steps', reExecuted],
          ] as Figure[])
        : []),
      ['hash breaks', hashBreaks],
      ['projection diffs', projectionDiffs],
    ],
    failures,
    counts: { lost, doubleSuccesses, reExecuted },
  };
};

/** `orbit recover --auto-resume` rounds (and a worker, if given) until every run ended or time ran out. */
export const recoverUntilDone = async (
  ctx: Ctx,
  schema: string,
  ids: readonly string[],
  opts: { recoverers: number; timeoutMs: number; threshold?: string },
): Promise<{ rounds: number; done: boolean; exits: number[] }> => {
  const threshold = opts.threshold ?? '1s';
  let rounds = 0;
  const exits: number[] = [];
  const finished = async () => {
    const st = await statuses(ctx, schema, ids);
    return ids.every((id) => ['success', 'failed', 'cancelled'].includes(st.get(id) ?? ''));
  };
  const deadline = Date.now() + opts.timeoutMs;
  while (!(await finished())) {
    if (Date.now() > deadline) return { rounds, done: false, exits };
    rounds += 1;
    const procs = Array.from({ length: opts.recoverers }, () =>
      orbit(ctx, schema, ['recover', '--auto-resume', '--threshold', threshold, '--concurrency', '8']),
    );
    for (const r of await Promise.all(procs.map((p) => p.done))) exits.push(r.code ?? -1);
    await sleep(300);
  }
  return { rounds, done: true, exits };
};
