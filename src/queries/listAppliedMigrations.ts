import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

export interface AppliedMigrationRow {
  readonly version: number;
  readonly name: string;
  /** sha256 of the file as it was applied. */
  readonly checksum: string;
}

/** The migrations recorded in the schema's `schema_migrations`, in version order. */
export const listAppliedMigrations = (db: Database, client?: PoolClient) =>
  query<AppliedMigrationRow>(client ?? db, `SELECT version, name, checksum FROM ${db.qs}.schema_migrations ORDER BY version`);
