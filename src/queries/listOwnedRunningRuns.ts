import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Ids of the running runs whose journal names `workerId` their owner (runs_by_status_start). */
export const listOwnedRunningRuns = async (db: Database, workerId: string): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(db, `SELECT id FROM ${db.qs}.runs WHERE status = 'running' AND owner = $1`, [workerId]),
  );
