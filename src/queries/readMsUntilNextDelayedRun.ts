import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Milliseconds (database clock) until the earliest delayed queued run becomes due; null when none waits. */
export const readMsUntilNextDelayedRun = async (db: Database): Promise<E.Either<DbFailure, number | null>> =>
  E.map((rs: { ms: number | null }[]) => rs[0]?.ms ?? null)(
    await query<{ ms: number | null }>(
      db,
      `SELECT (extract(epoch FROM min(d.run_at) - now()) * 1000)::float8 AS ms
         FROM ${db.qs}.delayed_runs d JOIN ${db.qs}.runs r ON r.id = d.run_id
        WHERE d.run_at > now() AND r.status = 'pending'`,
    ),
  );
