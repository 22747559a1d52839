import { query, type Database } from '../db/database';
import { waitingOnQueue } from './waitingOnQueue';

export interface StrandedQueuedRow {
  readonly pipeline_id: string;
  readonly definition_hash: string;
  readonly runs: number;
  readonly oldest: Date;
  /** The definition hashes of this pipeline that live workers have (none: no live worker has the pipeline). */
  readonly live_hashes: string[];
}

/**
 * Queued runs that no live worker can execute, by pipeline and definition hash: waiting on the
 * queue, and no worker_registry row alive now (database clock) has that pipeline with that
 * definition. Oldest first.
 */
export const listStrandedQueuedRuns = (db: Database) =>
  query<StrandedQueuedRow>(
    db,
    `SELECT r.pipeline_id, r.definition_hash, count(*)::int AS runs, min(r.started_at) AS oldest,
            coalesce((SELECT array_agg(DISTINCT w.pipelines ->> r.pipeline_id)
                        FROM ${db.qs}.worker_registry w
                       WHERE w.alive_until > now() AND w.pipelines ? r.pipeline_id), '{}') AS live_hashes
       FROM ${db.qs}.runs r
      WHERE ${waitingOnQueue(db.qs)}
        AND NOT EXISTS (SELECT 1 FROM ${db.qs}.worker_registry w
                         WHERE w.alive_until > now() AND w.pipelines ->> r.pipeline_id = r.definition_hash)
      GROUP BY r.pipeline_id, r.definition_hash
      ORDER BY min(r.started_at)`,
  );
