import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import { fromPgError } from '../db/pgErrors';
import type { DbFailure } from '../errors';

/**
 * Runs one migration's text (from sql/, the schema already spliced in) and records it in
 * `schema_migrations`, in one transaction: a migration is applied whole or not at all.
 */
export const applyMigration = async (
  db: Database,
  client: PoolClient,
  m: { readonly version: number; readonly name: string; readonly checksum: string },
  sql: string,
): Promise<E.Either<DbFailure, void>> => {
  try {
    await client.query('BEGIN');
    // Simple protocol (no parameters): a migration file holds several statements.
    await client.query(sql);
    await client.query(`INSERT INTO ${db.qs}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
      m.version,
      m.name,
      m.checksum,
    ]);
    await client.query('COMMIT');
    return E.right(undefined);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    return E.left(fromPgError(err));
  }
};
