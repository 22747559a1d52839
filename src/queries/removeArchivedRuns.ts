import { query, type Database } from '../db/database';

/** What archive_remove_runs did with one run. */
export interface RemovedRunRow {
  readonly run_id: string;
  /** `archived`; `already archived` (by this manifest, earlier); `changed` (not finished, or its head moved: left as it is). */
  readonly outcome: 'archived' | 'already archived' | 'changed';
  readonly events: number;
}

/**
 * Removes archived runs (journal, projection rows) and records each in the archive ledger, in one
 * transaction, through the owner-only archive_remove_runs (sql/011_archive.sql).
 */
export const removeArchivedRuns = (
  db: Database,
  manifestDigest: string,
  location: string,
  runs: readonly { readonly runId: string; readonly lastSeq: number; readonly headHash: string }[],
) =>
  query<RemovedRunRow>(
    db,
    `SELECT run_id, outcome, events
       FROM ${db.qs}.archive_remove_runs($1, $2, $3::text[], $4::integer[],
                                         ARRAY(SELECT decode(h, 'hex') FROM unnest($5::text[]) WITH ORDINALITY AS u(h, i) ORDER BY i))`,
    [manifestDigest, location, runs.map((r) => r.runId), runs.map((r) => r.lastSeq), runs.map((r) => r.headHash)],
  );
