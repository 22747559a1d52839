import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** The database clock's `now()`. */
export const readDatabaseNow = async (db: Database): Promise<E.Either<DbFailure, Date>> =>
  E.map((rs: readonly { now: Date }[]) => (rs[0] as { now: Date }).now)(await query<{ now: Date }>(db, 'SELECT now() AS now'));
