import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Creates the schema and its `schema_migrations` table where they are missing. */
export const createMigrationsTable = async (db: Database, client: PoolClient): Promise<E.Either<DbFailure, void>> => {
  const schema = await query(client, `CREATE SCHEMA IF NOT EXISTS ${db.qs}`);
  if (E.isLeft(schema)) return schema;
  const table = await query(
    client,
    `CREATE TABLE IF NOT EXISTS ${db.qs}.schema_migrations (
       version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  return E.map(() => undefined)(table);
};
