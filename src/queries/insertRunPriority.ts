import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * Records a queued run's priority (run_priorities, sql/017). Returns whether it was recorded: an
 * existing row is left as it was.
 */
export const insertRunPriority = async (db: Database, runId: string, priority: number): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: unknown[]) => rs.length > 0)(
    await query(
      db,
      `INSERT INTO ${db.qs}.run_priorities (run_id, priority) VALUES ($1, $2) ON CONFLICT (run_id) DO NOTHING RETURNING run_id`,
      [runId, priority],
    ),
  );

/** Forgets a priority recorded for a run whose creation was then refused. */
export const deleteRunPriority = (db: Database, runId: string) =>
  query(db, `DELETE FROM ${db.qs}.run_priorities WHERE run_id = $1`, [runId]);
