import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { migrate } from '../../src/migrations/migrate';
import { formatError } from '../../src/errors';

/** The server the suite runs against: DATABASE_URL, set by globalSetup when not given. */
export const testDatabaseUrl = (): string => {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through jest (test/support/globalSetup.ts sets it)');
  return url;
};

export const uniqueSchemaName = (prefix = 't'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export interface TestDatabase {
  readonly db: Database;
  readonly schema: string;
  readonly url: string;
  /** Drops the schema and closes the pool. */
  readonly dispose: () => Promise<void>;
}

/**
 * A private, migrated schema for one test file, so files run in parallel without sharing state.
 * Call `dispose` in afterAll.
 */
export const createTestDatabase = async (prefix = 't'): Promise<TestDatabase> => {
  const url = testDatabaseUrl();
  const schema = uniqueSchemaName(prefix);
  const opened = openDatabase({ url, schema, max: 20 });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  const db = opened.right;
  const migrated = await migrate(db);
  if (E.isLeft(migrated)) throw new Error(formatError(migrated.left));
  return {
    db,
    schema,
    url,
    dispose: async () => {
      await db.pool.query(`DROP SCHEMA IF EXISTS ${db.qs} CASCADE`).catch(() => undefined);
      await closeDatabase(db);
    },
  };
};

/** Unwraps a Right or fails the test with the formatted error. */
export const expectRight = <A>(e: E.Either<import('../../src/errors').OrbitError, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left: ${formatError(e.left)}`);
  return e.right;
};

/** Unwraps a Left or fails the test. */
export const expectLeft = <L, A>(e: E.Either<L, A>): L => {
  if (E.isRight(e)) throw new Error(`expected Left, got Right: ${JSON.stringify(e.right).slice(0, 300)}`);
  return e.left;
};
