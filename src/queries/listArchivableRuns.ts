import { query, type Database } from '../db/database';

/** A finished run `orbit archive` may take: its id and how many events its journal holds (its last seq). */
export interface ArchivableRun {
  readonly id: string;
  readonly last_seq: number;
}

/**
 * Up to `limit` runs finished (success, failed, cancelled) before `before`, with ids after
 * `afterId`, in id order: one page of the runs an archive takes.
 */
export const listArchivableRuns = (db: Database, before: Date, afterId: string, limit: number) =>
  query<ArchivableRun>(
    db,
    `SELECT id, last_seq FROM ${db.qs}.runs
      WHERE status IN ('success', 'failed', 'cancelled') AND finished_at < $1 AND id > $2
      ORDER BY id LIMIT $3`,
    [before, afterId, limit],
  );
