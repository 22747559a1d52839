import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** A page of run ids with events after `after`, in id order (even a run whose seq 1 was deleted). */
export const listJournaledRunIds = async (db: Database, after: string, limit: number): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      db,
      `SELECT DISTINCT run_id AS id FROM ${db.qs}.run_events WHERE run_id > $1 ORDER BY run_id LIMIT $2`,
      [after, limit],
    ),
  );
