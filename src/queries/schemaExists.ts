import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Whether the database has the Orbit schema `db` names. */
export const schemaExists = async (db: Database, client?: PoolClient): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: { n: number }[]) => (rs[0]?.n ?? 0) > 0)(
    await query<{ n: number }>(client ?? db, 'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [db.schema]),
  );
