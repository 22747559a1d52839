import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { waitingOnQueue } from './waitingOnQueue';

/**
 * Up to `max` runs waiting on the queue (waitingOnQueue), oldest first,
 * their `runs` rows locked until the caller's transaction ends. `SKIP LOCKED`: concurrent workers
 * pick different runs.
 */
export const lockQueuedRuns = async (db: Database, max: number, client: PoolClient): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      client,
      `SELECT r.id FROM ${db.qs}.runs r
        WHERE ${waitingOnQueue(db.qs)}
        ORDER BY r.started_at
        LIMIT $1
        FOR UPDATE OF r SKIP LOCKED`,
      [max],
    ),
  );
