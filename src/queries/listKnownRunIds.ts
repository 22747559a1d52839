import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * A page of every run id known anywhere after `after`, in id order: the journal (even a run whose
 * seq 1 was deleted), `runs` rows and `steps` rows. What `verify` visits.
 */
export const listKnownRunIds = async (db: Database, after: string, limit: number): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      db,
      // Each branch stops after a page (an index scan with a limit), so paging stays linear.
      `SELECT id FROM (
       (SELECT DISTINCT run_id AS id FROM ${db.qs}.run_events WHERE run_id > $1 ORDER BY 1 LIMIT $2)
       UNION (SELECT id FROM ${db.qs}.runs WHERE id > $1 ORDER BY 1 LIMIT $2)
       UNION (SELECT DISTINCT run_id FROM ${db.qs}.steps WHERE run_id > $1 ORDER BY 1 LIMIT $2)) ids
     ORDER BY id LIMIT $2`,
      [after, limit],
    ),
  );
