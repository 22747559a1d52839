import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** The latest archive ledger row of a run (sql/011_archive.sql). */
export interface ArchivedRunRow {
  readonly run_id: string;
  readonly events: number;
  readonly last_seq: number;
  readonly head_hash: string;
  readonly manifest_digest: string;
  readonly location: string;
  readonly archived_at: Date;
  readonly archived_by: string;
}

/** Which of these runs the archive ledger holds, through archived_runs (any role that can use the schema). */
export const readArchivedRuns = (db: Database, runIds: readonly string[], client?: PoolClient) =>
  query<ArchivedRunRow>(
    client ?? db,
    `SELECT run_id, events, last_seq, head_hash, manifest_digest, location, archived_at, archived_by
       FROM ${db.qs}.archived_runs($1::text[]) ORDER BY run_id`,
    [runIds],
  );
