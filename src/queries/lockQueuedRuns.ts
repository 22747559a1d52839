import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { waitingOnQueue } from './waitingOnQueue';

/**
 * Up to `max` runs waiting on the queue (waitingOnQueue) that the caller can execute: their
 * pipeline is one of `executable` (name → definition hash) with the same definition hash. Oldest
 * first, their `runs` rows locked until the caller's transaction ends. `SKIP LOCKED`: concurrent
 * workers pick different runs. Runs of other pipelines or definitions are never taken, so a worker
 * does not claim (and fail) them again and again (issue 20 item 2).
 */
export const lockQueuedRuns = async (
  db: Database,
  max: number,
  executable: Readonly<Record<string, string>>,
  client: PoolClient,
): Promise<E.Either<DbFailure, string[]>> => {
  const names = Object.keys(executable);
  if (names.length === 0) return E.right([]);
  return E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      client,
      `SELECT r.id FROM ${db.qs}.runs r
        WHERE ${waitingOnQueue(db.qs)}
          AND (r.pipeline_id, r.definition_hash) IN (SELECT * FROM unnest($2::text[], $3::text[]))
        ORDER BY r.started_at
        LIMIT $1
        FOR UPDATE OF r SKIP LOCKED`,
      [max, names, names.map((n) => executable[n] as string)],
    ),
  );
};
