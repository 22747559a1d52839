import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { JsonValue } from '../events/json';

/**
 * One run's call of `append_run_events` (sql/007_lean_append.sql): typed arrays, one element per
 * event and per changed step. Times of the events being appended are relative to PENDING_EPOCH
 * (src/journal/pendingTime.ts).
 */
export interface AppendRunEventsCall {
  readonly runId: string;
  readonly expectedSeq: number;
  readonly writer: string;
  readonly eventIds: readonly string[];
  readonly types: readonly string[];
  readonly stepNames: readonly (string | null)[];
  readonly attempts: readonly (number | null)[];
  readonly payloads: readonly JsonValue[];
  /** The runs row after the events: what events change once the run exists. */
  readonly status: string;
  readonly finishedAt: string | null;
  readonly owner: string | null;
  readonly error: string | null;
  readonly recoveryCount: number;
  readonly lastEventAt: string;
  /** The steps rows the events changed (for a new run, those that differ from a fresh step). */
  readonly stepRows: readonly string[];
  readonly stepStatus: readonly string[];
  readonly stepStarted: readonly (string | null)[];
  readonly stepFinished: readonly (string | null)[];
  readonly stepAttempts: readonly number[];
  readonly stepErrors: readonly (string | null)[];
  /** The changed steps' results (null for none). */
  readonly stepResults: readonly (JsonValue | null)[];
  readonly stepNextRetry: readonly (string | null)[];
  readonly notify: boolean;
  /** A new run (expected seq 0): what its runs row holds beyond the fields above. */
  readonly created: {
    readonly pipeline_id: string;
    readonly triggered_by: string | null;
    readonly metadata: JsonValue;
    readonly definition_hash: string;
    readonly step_names: readonly string[];
  } | null;
}

export interface AppendResultRow {
  outcome: 'ok' | 'duplicate' | 'conflict';
  last_seq: number | null;
  committed_at: Date | null;
}

const ARGS =
  'run_id, expected_seq, writer, event_ids, types, step_names, attempts, payloads, status, finished_at, owner, error, ' +
  'recovery_count, last_event_at, step_rows, step_status, step_started, step_finished, step_attempts, step_errors, ' +
  'step_results, step_next_retry, notify, created';

const COLUMNS =
  'run_id text, expected_seq integer, writer text, event_ids uuid[], types text[], step_names text[], attempts integer[], ' +
  'payloads jsonb, status text, finished_at timestamptz, owner text, error text, recovery_count integer, ' +
  'last_event_at timestamptz, step_rows text[], step_status text[], step_started timestamptz[], ' +
  'step_finished timestamptz[], step_attempts integer[], step_errors text[], step_results jsonb, ' +
  'step_next_retry timestamptz[], notify boolean, created jsonb';

const valuesOf = (c: AppendRunEventsCall): unknown[] => [
  c.runId,
  c.expectedSeq,
  c.writer,
  c.eventIds,
  c.types,
  c.stepNames,
  c.attempts,
  // jsonb parameters go as JSON text (pg would turn a JavaScript array into a PostgreSQL array).
  JSON.stringify(c.payloads),
  c.status,
  c.finishedAt,
  c.owner,
  c.error,
  c.recoveryCount,
  c.lastEventAt,
  c.stepRows,
  c.stepStatus,
  c.stepStarted,
  c.stepFinished,
  c.stepAttempts,
  c.stepErrors,
  JSON.stringify(c.stepResults),
  c.stepNextRetry,
  c.notify,
  c.created === null ? null : JSON.stringify(c.created),
];

const PARAMS = Array.from({ length: 24 }, (_, i) => `$${i + 1}`).join(', ');

/** One append in its own transaction (autocommit). Rejects with what `pg` threw. */
export const appendRunEvents = async (db: Database, call: AppendRunEventsCall): Promise<AppendResultRow | undefined> => {
  const res = await db.pool.query<AppendResultRow>({
    name: `orbit.append:${db.schema}`,
    text: `SELECT outcome, last_seq, committed_at FROM ${db.qs}.append_run_events(${PARAMS})`,
    values: valuesOf(call),
  });
  return res.rows[0];
};

/**
 * One append on a connection inside the caller's transaction, so that it commits (or not) with the
 * caller's other statements. Rejects with what `pg` threw.
 */
export const appendRunEventsOn = async (
  db: Database,
  conn: PoolClient,
  call: AppendRunEventsCall,
): Promise<AppendResultRow | undefined> => {
  const res = await conn.query<AppendResultRow>({
    name: `orbit.append:${db.schema}`,
    text: `SELECT outcome, last_seq, committed_at FROM ${db.qs}.append_run_events(${PARAMS})`,
    values: valuesOf(call),
  });
  return res.rows[0];
};

/** The batch's JSON: each call as an object whose keys are the columns of `COLUMNS`, plus its index `i`. */
const batchJson = (calls: readonly { readonly i: number; readonly call: AppendRunEventsCall }[]): string =>
  JSON.stringify(
    calls.map(({ i, call: c }) => ({
      i,
      run_id: c.runId,
      expected_seq: c.expectedSeq,
      writer: c.writer,
      event_ids: c.eventIds,
      types: c.types,
      step_names: c.stepNames,
      attempts: c.attempts,
      payloads: c.payloads,
      status: c.status,
      finished_at: c.finishedAt,
      owner: c.owner,
      error: c.error,
      recovery_count: c.recoveryCount,
      last_event_at: c.lastEventAt,
      step_rows: c.stepRows,
      step_status: c.stepStatus,
      step_started: c.stepStarted,
      step_finished: c.stepFinished,
      step_attempts: c.stepAttempts,
      step_errors: c.stepErrors,
      step_results: c.stepResults,
      step_next_retry: c.stepNextRetry,
      notify: c.notify,
      created: c.created,
    })),
  );

/**
 * Several runs' appends in one statement, hence one transaction and one commit, in the order
 * given (a LATERAL call runs once per input row, in input order). Each row comes back with its
 * call's `i`. An error aborts the whole statement; the caller decides what to retry.
 */
export const appendRunEventsBatch = async (
  db: Database,
  calls: readonly { readonly i: number; readonly call: AppendRunEventsCall }[],
): Promise<(AppendResultRow & { i: number })[]> => {
  const res = await db.pool.query<AppendResultRow & { i: number }>({
    name: `orbit.appendBatch:${db.schema}`,
    text:
      `SELECT b.i, a.outcome, a.last_seq, a.committed_at FROM jsonb_to_recordset($1::jsonb) AS b(i integer, ${COLUMNS}) ` +
      `CROSS JOIN LATERAL ${db.qs}.append_run_events(${ARGS.split(', ')
        .map((a) => `b.${a}`)
        .join(', ')}) AS a`,
    values: [batchJson(calls)],
  });
  return res.rows;
};
