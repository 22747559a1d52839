import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/database';
import type { JsonValue } from '../../src/events/json';
import type { RunEvent } from '../../src/events/runEvents';
import { appendEvents, type Appended } from '../../src/journal/appendEvents';
import { readRunEvents } from '../../src/journal/readEvents';
import { definePipeline, definitionHashOf } from '../../src/pipeline/definePipeline';
import { NonRetryableError } from '../../src/executor/stepError';
import type { Pipeline } from '../../src/pipeline/types';
import { checkProjections } from '../../src/projections/checkProjections';
import { expectRight } from './testDatabase';
import { sleep } from '../../src/util/sleep';
import { waitFor as waitForCondition } from './waitFor';

/**
 * Helpers for recovery tests: journals left behind by a dead worker, event counting, waiting.
 * A "dead worker" is a writer id with no row in `workers`: nobody heartbeats for it.
 */

/** A pipeline [a, b] whose step b still fails for good (its cause was not fixed). */
export const stillBrokenPipeline = (name: string): Pipeline =>
  definePipeline({
    name,
    steps: [
      { name: 'a', handler: () => ({ success: true }) },
      {
        name: 'b',
        handler: () => {
          throw new NonRetryableError('still broken');
        },
      },
    ],
  });

export { sleep };

let counter = 0;
export const uniqueRunId = (prefix = 'run'): string => `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;
export const deadWorkerId = (): string => `dead-host:${90000 + ++counter}:${randomBytes(3).toString('hex')}`;

export interface SeedOptions {
  readonly runId?: string;
  readonly pipelineId: string;
  readonly steps: readonly string[];
  /** Default: the hash `definePipeline` computes for these steps (no drift). */
  readonly definitionHash?: string;
  readonly metadata?: JsonValue;
  /** Events after run.created + run.claimed. */
  readonly events?: readonly RunEvent[];
  /** The worker that claimed the run and wrote every event. Default: a dead worker. */
  readonly worker?: string;
  /** Every step's dependencies (a DAG run); default: each step after the one before it. */
  readonly dependsOn?: Record<string, string[]>;
}

export interface Seeded {
  readonly runId: string;
  readonly worker: string;
  readonly appended: Appended;
}

/** Writes the journal a worker would have left when it died: created, claimed, then `events`. */
export const seedRun = async (db: Database, opts: SeedOptions): Promise<Seeded> => {
  const runId = opts.runId ?? uniqueRunId();
  const worker = opts.worker ?? deadWorkerId();
  const created: RunEvent = {
    type: 'run.created',
    payload: {
      pipelineId: opts.pipelineId,
      steps: [...opts.steps],
      definitionHash: opts.definitionHash ?? definitionHashOf(opts.pipelineId, opts.steps, opts.dependsOn ?? null),
      metadata: opts.metadata ?? {},
      triggeredBy: 'test',
      ...(opts.dependsOn !== undefined ? { dependsOn: opts.dependsOn } : {}),
    },
  };
  const claimed: RunEvent = { type: 'run.claimed', payload: { worker } };
  const appended = expectRight(await appendEvents(db, runId, 0, [created, claimed, ...(opts.events ?? [])], worker));
  return { runId, worker, appended };
};

/** The journal as short strings: `step.started:b#2`, `run.resumed`. */
export const journalOf = async (db: Database, runId: string): Promise<string[]> =>
  expectRight(await readRunEvents(db, runId)).map((e) =>
    'stepName' in e.event ? `${e.event.type}:${e.event.stepName}#${e.event.attempt}` : e.event.type,
  );

/** The decoded events of a run. */
export const eventsOf = async (db: Database, runId: string) => expectRight(await readRunEvents(db, runId));

export const countEvents = async (
  db: Database,
  runId: string,
  where: { type?: string; writer?: string; stepName?: string } = {},
): Promise<number> => {
  const res = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${db.qs}.run_events
      WHERE run_id = $1 AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR writer = $3)
        AND ($4::text IS NULL OR step_name = $4)`,
    [runId, where.type ?? null, where.writer ?? null, where.stepName ?? null],
  );
  return res.rows[0]?.n ?? 0;
};

/** Fails the test unless the projections of these runs equal the fold of their journals. */
export const expectProjectionsMatch = async (db: Database, runIds: readonly string[]): Promise<void> => {
  const report = expectRight(await checkProjections(db, runIds));
  expect(report.differences).toEqual([]);
  expect(report.runsChecked).toBe(runIds.length);
};

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs` naming `what`. */
export const waitFor = async <A>(
  what: string,
  check: () => Promise<A | undefined> | A | undefined,
  timeoutMs?: number,
  everyMs = 20,
): Promise<A> => {
  // `false` and `null` are values here (only undefined means "not yet"): box them for the shared poller.
  const boxed = await waitForCondition(
    async () => {
      const v = await check();
      return v === undefined ? undefined : { v };
    },
    { what, timeoutMs, everyMs },
  );
  return boxed.v;
};

/**
 * Waits until the journals of `runIds` (default: every unfinished run of the schema) have been
 * silent for longer than `thresholdMs` by the database's clock, the clock detection uses: the
 * moment a detector with that threshold sees them as silent, instead of a guessed sleep.
 */
export const waitUntilSilent = async (db: Database, thresholdMs: number, runIds?: readonly string[]): Promise<void> => {
  await waitForCondition(
    async () => {
      const res = await db.pool.query<{ silent: boolean }>(
        `SELECT coalesce(bool_and(last_event_at < now() - make_interval(secs => $1::float8 / 1000)), true) AS silent
           FROM ${db.qs}.runs
          WHERE CASE WHEN $2::text[] IS NULL THEN status IN ('pending', 'running') ELSE id = ANY ($2::text[]) END`,
        [thresholdMs, runIds ?? null],
      );
      return res.rows[0]?.silent === true;
    },
    {
      what: `the journals of ${runIds ? runIds.join(', ') : 'every unfinished run'} to be silent for ${thresholdMs} ms`,
      timeoutMs: thresholdMs + 10_000,
    },
  );
};

/** A promise with its resolve function outside, to hold a step handler until the test lets go. */
export const deferred = <A = void>() => {
  let resolve!: (a: A) => void;
  const promise = new Promise<A>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/** Resolves when `signal` aborts, or after `ms` (whichever comes first), saying which. */
export const abortedWithin = (signal: AbortSignal, ms: number): Promise<'aborted' | 'timeout'> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve('aborted');
    const timer = setTimeout(() => resolve('timeout'), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve('aborted');
      },
      { once: true },
    );
  });

/** The heartbeat row of a worker (null when it has none). */
export const heartbeatOf = async (db: Database, workerId: string): Promise<Date | null> => {
  const res = await db.pool.query<{ heartbeat_at: Date }>(`SELECT heartbeat_at FROM ${db.qs}.workers WHERE id = $1`, [workerId]);
  return res.rows[0]?.heartbeat_at ?? null;
};
