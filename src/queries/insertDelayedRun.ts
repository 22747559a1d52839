import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * Records when a queued run becomes due: at `runAt`, or `delayMs` after now (database clock).
 * Returns the time recorded, or null when the run id already had one (left as it was).
 */
export const insertDelayedRun = async (
  db: Database,
  runId: string,
  when: { readonly runAt: Date } | { readonly delayMs: number },
): Promise<E.Either<DbFailure, Date | null>> =>
  E.map((rs: { run_at: Date }[]) => rs[0]?.run_at ?? null)(
    await query<{ run_at: Date }>(
      db,
      `INSERT INTO ${db.qs}.delayed_runs (run_id, run_at)
       VALUES ($1, coalesce($2::timestamptz, now() + $3::float8 * interval '1 millisecond'))
       ON CONFLICT (run_id) DO NOTHING
       RETURNING run_at`,
      [runId, 'runAt' in when ? when.runAt.toISOString() : null, 'delayMs' in when ? when.delayMs : null],
    ),
  );

/** Forgets a delay recorded for a run whose creation was then refused. */
export const deleteDelayedRun = (db: Database, runId: string) =>
  query(db, `DELETE FROM ${db.qs}.delayed_runs WHERE run_id = $1`, [runId]);
