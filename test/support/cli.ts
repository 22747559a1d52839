/**
 * End-to-end helpers: run the compiled `orbit` CLI (dist/cli/main.js, so `npm run build` first)
 * as a real child process against a private schema, and read the journal directly with `pg`.
 *
 *   const h = await createE2eHarness('e2e');          // private schema e2e_<hex>, a pg pool
 *   const r = await h.cli(['check-interrupted', '--threshold', '1s']);
 *   const { runId } = await h.startRunAndKillWhen('data-pipeline', meta, (ev) => ev.some(...));
 *   afterAll(() => h.dispose());                      // kills leftover children, drops the schema
 *
 * The schema is migrated when the harness is made (the CLI only migrates when asked).
 * Every child gets DATABASE_URL, `--schema <private>`, `--pipelines test/fixtures/pipelines.js`,
 * NO_COLOR, and none of the caller's ORBIT_* variables (tests stay hermetic; pass `env` to set one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { Pool } from 'pg';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { migrate } from '../../src/migrations/migrate';
import { formatError } from '../../src/errors';
import type { StoredRunRow } from '../../src/queries/readRunRow';
import type { StoredStepRow } from '../../src/queries/readStepRows';
import { sleep } from '../../src/util/sleep';
import { waitFor as waitForCondition } from './waitFor';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
export const FIXTURE_PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'pipelines.js');
export const DATA_PIPELINE_STEPS = ['fetch-data', 'transform-data', 'load-data', 'notify'] as const;

export const e2eDatabaseUrl = (): string => {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the e2e tests need a PostgreSQL (see test/support/globalSetup.ts)');
  return url;
};

export const randomHex = (bytes = 6): string => randomBytes(bytes).toString('hex');
export const newE2eRunId = (label = 'run'): string => `e2e-${label}-${randomHex()}`;

export { sleep };

export interface CliResult {
  /** Exit code, or null when the process died of a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split into lines (trailing newline dropped). */
  readonly lines: readonly string[];
  /** stderr split into lines (trailing newline dropped); [] when stderr is empty. */
  readonly errLines: readonly string[];
  readonly durationMs: number;
  /** True when the helper had to SIGKILL the process because it outlived `timeoutMs`. */
  readonly timedOut: boolean;
  readonly args: readonly string[];
}

export interface CliOptions {
  /** Extra environment (e.g. ORBIT_FAULT_AFTER). `undefined` values remove a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Schema option: default the harness schema; a string overrides it; false passes none. */
  readonly schema?: string | false;
  /** Pass `--pipelines test/fixtures/pipelines.js`. Default true. */
  readonly pipelines?: boolean;
  /** DATABASE_URL of the child. Default the suite's. */
  readonly databaseUrl?: string;
  /** SIGKILL the child after this long (the result then says timedOut). Default 90 s: a hung child, not a slow one. */
  readonly timeoutMs?: number;
  /** Written to the child's stdin, which is then closed. Default: no stdin. */
  readonly input?: string;
}

const splitLines = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));

/** A CLI process running in the background. */
export class CliProcess {
  private out = '';
  private err = '';
  readonly done: Promise<CliResult>;
  private exited = false;

  constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
    timeoutMs: number,
  ) {
    const t0 = Date.now();
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.err += d));
    this.done = new Promise<CliResult>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.kill('SIGKILL');
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.exited = true;
        resolve({
          code,
          signal,
          stdout: this.out,
          stderr: this.err,
          lines: splitLines(this.out),
          errLines: splitLines(this.err),
          durationMs: Date.now() - t0,
          timedOut,
          args,
        });
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }
  get stdout(): string {
    return this.out;
  }
  get stderr(): string {
    return this.err;
  }
  get running(): boolean {
    return !this.exited;
  }

  /** Sends a signal to this child (by its pid); a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void {
    if (this.exited) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** One journal row, as stored. */
export interface EventRow {
  readonly run_id: string;
  readonly seq: number;
  readonly type: string;
  readonly step_name: string | null;
  readonly attempt: number | null;
  readonly payload: Record<string, unknown>;
  readonly occurred_at: Date;
  readonly writer: string;
}

/** The `runs` columns the harness reads (the row type is src's). */
export type RunRow = Pick<StoredRunRow, 'id' | 'status' | 'owner' | 'error' | 'recovery_count' | 'last_seq'>;

/** The `steps` columns the harness reads. */
export type StepRow = Pick<StoredStepRow, 'name' | 'status' | 'attempt_count' | 'next_retry_at'>;

export interface TableCounts {
  readonly events: number;
  readonly runs: number;
  readonly steps: number;
}

export interface E2eHarness {
  readonly schema: string;
  readonly url: string;
  /** A pool on the suite's database, for reading (and, where a test says so, seeding) the journal. */
  readonly pool: Pool;
  /** The schema, quoted for SQL. */
  readonly qs: string;
  /** argv after `node dist/cli/main.js`: the global options this harness adds, then `args`. */
  argv(args: readonly string[], opts?: CliOptions): string[];
  /** Runs the CLI to its end. Throws if it had to be killed after `timeoutMs`. */
  cli(args: readonly string[], opts?: CliOptions): Promise<CliResult>;
  /** Starts the CLI in the background. */
  start(args: readonly string[], opts?: CliOptions): CliProcess;
  /**
   * Starts `orbit run <pipeline> --run-id <new id> --metadata <json>`, polls the journal until
   * `until(events)` holds, then SIGKILLs the process. Fails if the process exits first.
   */
  startRunAndKillWhen(
    pipeline: string,
    metadata: unknown,
    until: (events: readonly EventRow[]) => boolean,
    opts?: CliOptions & { runId?: string; extraArgs?: readonly string[] },
  ): Promise<{ runId: string; result: CliResult }>;
  /** Starts a run in the background and resolves once `until(events)` holds (the process keeps running). */
  startRunUntil(
    pipeline: string,
    metadata: unknown,
    until: (events: readonly EventRow[]) => boolean,
    opts?: CliOptions & { runId?: string; extraArgs?: readonly string[] },
  ): Promise<{ runId: string; proc: CliProcess }>;
  events(runId: string): Promise<EventRow[]>;
  allEvents(): Promise<EventRow[]>;
  run(runId: string): Promise<RunRow | undefined>;
  steps(runId: string): Promise<StepRow[]>;
  counts(): Promise<TableCounts>;
  /** Polls `check` every 25 ms until it is true; throws after `timeoutMs` naming `what`. */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /**
   * Waits until every run has shown no activity (journal event or its owner's heartbeat) for longer
   * than `thresholdMs`, by the database's clock: the moment `--threshold` detection will list them.
   */
  waitUntilStale(runIds: readonly string[], thresholdMs: number): Promise<void>;
  /** Kills children still running, drops the schema, closes the pool. */
  dispose(): Promise<void>;
}

export const createE2eHarness = async (prefix = 'e2e'): Promise<E2eHarness> => {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run "npm run build" before the e2e tests`);
  const url = e2eDatabaseUrl();
  const schema = `${prefix}_${randomHex()}`;
  const qs = `"${schema}"`;
  // The CLI does not migrate unless asked (issue 10 item 7): create the schema as its owner would.
  const opened = openDatabase({ url, schema, max: 1 });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  const migrated = await migrate(opened.right);
  await closeDatabase(opened.right);
  if (E.isLeft(migrated)) throw new Error(formatError(migrated.left));
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const children = new Set<CliProcess>();

  const argv = (args: readonly string[], opts: CliOptions = {}): string[] => {
    const schemaArg = opts.schema === undefined ? schema : opts.schema;
    return [
      ...(schemaArg === false ? [] : ['--schema', schemaArg]),
      ...(opts.pipelines === false ? [] : ['--pipelines', FIXTURE_PIPELINES]),
      ...args,
    ];
  };

  const start = (args: readonly string[], opts: CliOptions = {}): CliProcess => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('ORBIT_') && k !== 'FORCE_COLOR') env[k] = v;
    }
    env.DATABASE_URL = opts.databaseUrl ?? url;
    env.NO_COLOR = '1';
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const full = argv(args, opts);
    const child = spawn(process.execPath, [CLI_PATH, ...full], {
      cwd: REPO_ROOT,
      env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const p = new CliProcess(child, full, opts.timeoutMs ?? 90_000);
    children.add(p);
    void p.done.finally(() => children.delete(p)).catch(() => undefined);
    return p;
  };

  const cli = async (args: readonly string[], opts: CliOptions = {}): Promise<CliResult> => {
    const r = await start(args, opts).done;
    if (r.timedOut) {
      throw new Error(
        `orbit ${r.args.join(' ')} did not finish within ${opts.timeoutMs ?? 90_000} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
      );
    }
    return r;
  };

  const events = async (runId: string): Promise<EventRow[]> =>
    (
      await pool.query<EventRow>(
        `SELECT run_id, seq, type, step_name, attempt, payload, occurred_at, writer FROM ${qs}.run_events WHERE run_id = $1 ORDER BY seq`,
        [runId],
      )
    ).rows;

  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void> => {
    await waitForCondition(check, { what, timeoutMs, everyMs: 25 });
  };

  const tableExists = async (): Promise<boolean> =>
    (await pool.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${qs}.run_events`])).rows[0]?.ok === true;

  const startRunUntil: E2eHarness['startRunUntil'] = async (pipeline, metadata, until, opts = {}) => {
    const runId = opts.runId ?? newE2eRunId();
    const proc = start(
      ['run', pipeline, '--run-id', runId, '--metadata', JSON.stringify(metadata), ...(opts.extraArgs ?? [])],
      opts,
    );
    await waitFor(
      `run ${runId} to reach the awaited journal state`,
      async () => {
        if (!proc.running) {
          const r = await proc.done;
          throw new Error(
            `orbit run exited (code ${r.code}, signal ${r.signal}) before the awaited journal state\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
          );
        }
        if (!(await tableExists())) return false;
        return until(await events(runId));
      },
      opts.timeoutMs ?? 15_000,
    );
    return { runId, proc };
  };

  const startRunAndKillWhen: E2eHarness['startRunAndKillWhen'] = async (pipeline, metadata, until, opts = {}) => {
    const { runId, proc } = await startRunUntil(pipeline, metadata, until, opts);
    proc.kill('SIGKILL');
    return { runId, result: await proc.done };
  };

  return {
    schema,
    url,
    pool,
    qs,
    argv,
    cli,
    start,
    startRunUntil,
    startRunAndKillWhen,
    events,
    allEvents: async () =>
      (
        await pool.query<EventRow>(
          `SELECT run_id, seq, type, step_name, attempt, payload, occurred_at, writer FROM ${qs}.run_events ORDER BY position`,
        )
      ).rows,
    run: async (runId) =>
      (
        await pool.query<RunRow>(`SELECT id, status, owner, error, recovery_count, last_seq FROM ${qs}.runs WHERE id = $1`, [
          runId,
        ])
      ).rows[0],
    steps: async (runId) =>
      (
        await pool.query<StepRow>(
          `SELECT name, status, attempt_count, next_retry_at FROM ${qs}.steps WHERE run_id = $1 ORDER BY step_index`,
          [runId],
        )
      ).rows,
    counts: async () => {
      const r = await pool.query<{ events: number; runs: number; steps: number }>(
        `SELECT (SELECT count(*) FROM ${qs}.run_events)::int AS events,
                (SELECT count(*) FROM ${qs}.runs)::int AS runs,
                (SELECT count(*) FROM ${qs}.steps)::int AS steps`,
      );
      return r.rows[0] as TableCounts;
    },
    waitFor,
    waitUntilStale: (runIds, thresholdMs) =>
      waitFor(
        `runs ${runIds.join(', ')} to be idle for ${thresholdMs} ms`,
        async () => {
          const r = await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n
               FROM ${qs}.runs r LEFT JOIN ${qs}.workers w ON w.id = r.owner
              WHERE r.id = ANY($1::text[])
                AND greatest(r.last_event_at, coalesce(w.heartbeat_at, '-infinity')) < now() - make_interval(secs => $2::float8 / 1000)`,
            [runIds, thresholdMs],
          );
          return r.rows[0]?.n === runIds.length;
        },
        thresholdMs + 15_000,
      ),
    dispose: async () => {
      for (const c of [...children]) c.kill('SIGKILL');
      await Promise.all([...children].map((c) => c.done.catch(() => undefined)));
      await pool.query(`DROP SCHEMA IF EXISTS ${qs} CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
};

/** Journal queries used by several e2e files. */
export const ofType = (events: readonly EventRow[], type: string, step?: string): EventRow[] =>
  events.filter((e) => e.type === type && (step === undefined || e.step_name === step));

/** `{ step: number of step.succeeded events }` for every step of the pipeline. */
export const succeededPerStep = (
  events: readonly EventRow[],
  steps: readonly string[] = DATA_PIPELINE_STEPS,
): Record<string, number> => Object.fromEntries(steps.map((s) => [s, ofType(events, 'step.succeeded', s).length]));

/** The index of a line equal to `text` in `lines`, or -1. */
export const lineIndex = (lines: readonly string[], text: string): number => lines.indexOf(text);

/** Human-readable dump of a result, for failure messages. */
export const describeResult = (r: CliResult): string =>
  `orbit ${r.args.join(' ')}\nexit ${r.code} signal ${r.signal} (${r.durationMs} ms)\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

/** Fails with the whole output when the process did not exit with `code`. */
export const expectExit = (r: CliResult, code: number): void => {
  if (r.code !== code || r.signal !== null) throw new Error(`expected exit code ${code}\n${describeResult(r)}`);
};
