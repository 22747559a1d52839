import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Deletes `steps` and `runs` rows that no journal event backs (inside the caller's transaction); how many. */
export const deleteOrphanProjectionRows = async (db: Database, client: PoolClient): Promise<E.Either<DbFailure, number>> => {
  const steps = await query<{ n: number }>(
    client,
    `WITH d AS (DELETE FROM ${db.qs}.steps s WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = s.run_id) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
  );
  if (E.isLeft(steps)) return steps;
  const runs = await query<{ n: number }>(
    client,
    `WITH d AS (DELETE FROM ${db.qs}.runs r WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = r.id) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
  );
  if (E.isLeft(runs)) return runs;
  return E.right((steps.right[0]?.n ?? 0) + (runs.right[0]?.n ?? 0));
};
