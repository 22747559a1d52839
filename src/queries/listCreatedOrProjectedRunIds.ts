import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** A page of run ids after `after`, in id order, that the journal creates (seq 1) or `runs` holds. */
export const listCreatedOrProjectedRunIds = async (
  db: Database,
  after: string,
  limit: number,
): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      db,
      `SELECT id FROM (
       SELECT run_id AS id FROM ${db.qs}.run_events WHERE seq = 1 AND run_id > $1
       UNION SELECT id FROM ${db.qs}.runs WHERE id > $1) ids
     ORDER BY id LIMIT $2`,
      [after, limit],
    ),
  );
