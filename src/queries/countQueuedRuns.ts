import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { waitingOnQueue } from './waitingOnQueue';

/**
 * Queued runs still waiting for a worker (the queue depth): `pending` runs put on the queue by
 * `enqueueRun`, not yet taken under any valid lease (the same test the workers' claim uses). One
 * count over the `runs_queued` partial index.
 */
export const countQueuedRuns = async (db: Database): Promise<E.Either<DbFailure, number>> =>
  E.map((rows: { n: number }[]) => rows[0]?.n ?? 0)(
    await query<{ n: number }>(db, `SELECT count(*)::int AS n FROM ${db.qs}.runs r WHERE ${waitingOnQueue(db.qs)}`),
  );
