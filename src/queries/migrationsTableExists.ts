import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Whether the schema has its `schema_migrations` table (false also when the schema is missing). */
export const migrationsTableExists = async (db: Database, client?: PoolClient): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: { t: string | null }[]) => rs[0]?.t !== null && rs[0]?.t !== undefined)(
    await query<{ t: string | null }>(client ?? db, 'SELECT to_regclass($1)::text AS t', [`${db.qs}.schema_migrations`]),
  );
