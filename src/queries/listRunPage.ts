import { query, type Database } from '../db/database';
import type { RunStatus } from '../fold/runState';
import { suspendedOn, type RunSummaryRow } from './listRunSummaries';

export interface RunPageRow extends RunSummaryRow {
  readonly metadata: unknown;
  readonly recovery_count: number;
  /** started_at as PostgreSQL prints it (microseconds kept): the keyset cursor. */
  readonly started_key: string;
}

/** What a search matches (src/projections/searchTerms.ts builds it from the search box's text). */
export interface RunPageSearch {
  /** Matched against the run id, exactly. */
  readonly runId: string;
  /** JSON texts of one-element arrays (`["c-42"]`, `[42]`): a top-level metadata field equal to one of them. */
  readonly values: readonly string[];
  /** `key=value`: the field `key` equal to one of `keyValues` (same form as `values`); null when the text has no `=`. */
  readonly key: string | null;
  readonly keyValues: readonly string[];
}

export interface RunPageFilter {
  readonly status: RunStatus | null;
  readonly pipelineId: string | null;
  readonly search: RunPageSearch | null;
  /** Keyset: only runs strictly older than this (started_at, id). */
  readonly beforeStartedAt: string | null;
  readonly beforeId: string | null;
  readonly limit: number;
}

/**
 * The top-level scalar values of a run's metadata as a jsonb array: exactly the expression
 * sql/022 indexes (runs_by_metadata_value), or the planner does not use the index.
 */
const METADATA_VALUES = `jsonb_path_query_array(r.metadata, 'strict $.* ? (@.type() == "string" || @.type() == "number" || @.type() == "boolean")', '{}', true)`;

/**
 * One page of runs, newest first, after a keyset cursor: a range scan of runs_by_start or
 * runs_by_status_start (sql/010), however many runs there are. A search is a bitmap scan of the
 * primary key and runs_by_metadata_value (sql/022) when few runs match; when many do, the planner
 * walks back by started_at instead and stops when the page is full. `key=value` finds the value in
 * the index and checks the key on the rows found.
 */
export const listRunPage = (db: Database, f: RunPageFilter) =>
  query<RunPageRow>(
    db,
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.started_at::text AS started_key, r.finished_at, r.error, r.owner, r.last_event_at, r.metadata, r.recovery_count,
            jsonb_array_length(r.step_names) AS total,
            (SELECT count(*)::int FROM ${db.qs}.steps s WHERE s.run_id = r.id AND s.status = 'success') AS succeeded,
            ${suspendedOn(db.qs)} AS suspended
       FROM ${db.qs}.runs r
      WHERE ($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR r.pipeline_id = $2)
        AND ($3::text IS NULL OR r.id = $3
             OR ${METADATA_VALUES} @> ANY($4::jsonb[])
             OR (${METADATA_VALUES} @> ANY($5::jsonb[]) AND jsonb_build_array(r.metadata -> $6::text) = ANY($5::jsonb[])))
        AND ($7::timestamptz IS NULL OR (r.started_at, r.id) < ($7::timestamptz, $8::text))
      ORDER BY r.started_at DESC, r.id DESC
      LIMIT $9`,
    [
      f.status,
      f.pipelineId,
      f.search?.runId ?? null,
      f.search === null ? null : [...f.search.values],
      f.search === null || f.search.key === null ? null : [...f.search.keyValues],
      f.search?.key ?? null,
      f.beforeStartedAt,
      f.beforeId,
      f.limit,
    ],
  );
