import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * A page of the run ids `export --all --since` takes: runs whose first event (run.created) is at
 * or after `since`, with ids after `after`, in id order.
 */
export const listExportRunIdsSince = async (
  db: Database,
  since: string,
  after: string,
  limit: number,
): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      db,
      `SELECT e.run_id AS id FROM ${db.qs}.run_events e
        WHERE e.seq = 1 AND e.occurred_at >= $1 AND e.run_id > $2
        ORDER BY e.run_id LIMIT $3`,
      [since, after, limit],
    ),
  );

/** Those of the given run ids that have events, in the order given. */
export const listJournaledOf = async (db: Database, runIds: readonly string[]): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      db,
      `SELECT g.id FROM unnest($1::text[]) WITH ORDINALITY AS g(id, n)
        WHERE EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = g.id)
        ORDER BY g.n`,
      [runIds],
    ),
  );
