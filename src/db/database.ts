import * as E from 'fp-ts/Either';
import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import type { DbFailure, InvalidSchemaName } from '../errors';
import { channelFor, DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from './identifiers';
import { fromPgError } from './pgErrors';
import { retryTransient } from './retryTransient';

/** A connection pool bound to one Orbit schema. Everything that touches SQL takes one of these. */
export interface Database {
  readonly pool: Pool;
  /** The validated schema name, e.g. `orbit`. */
  readonly schema: string;
  /** The schema quoted for splicing into SQL text, e.g. `"orbit"`. */
  readonly qs: string;
  /** The NOTIFY channel for this schema. */
  readonly channel: string;
  readonly url: string;
}

export interface OpenDatabaseOptions {
  readonly url: string;
  /** Schema holding Orbit's tables. Default `orbit`. */
  readonly schema?: string;
  /** Pool size. Default 10. */
  readonly max?: number;
  /** Name reported in pg_stat_activity. Default `orbit`. */
  readonly applicationName?: string;
}

/** Validates the schema name and creates a pool. No connection is made until the first query. */
export const openDatabase = (opts: OpenDatabaseOptions): E.Either<InvalidSchemaName, Database> => {
  const schema = opts.schema ?? DEFAULT_SCHEMA;
  return E.map((valid: string) => {
    const pool = new Pool({
      connectionString: opts.url,
      max: opts.max ?? 10,
      application_name: opts.applicationName ?? 'orbit',
      connectionTimeoutMillis: 10_000,
      // Scripts that finish their work exit without closing the pool first.
      idleTimeoutMillis: 5_000,
      allowExitOnIdle: true,
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // Nor may a checked-out one between two statements (a transaction, the migration lock): pg-pool
    // listens only on idle clients, and a restart's 57P01 would be an unhandled 'error' event.
    pool.on('connect', (client) => client.on('error', () => undefined));
    return { pool, schema: valid, qs: quoteIdent(valid), channel: channelFor(valid), url: opts.url };
  })(validateSchemaName(schema));
};

export const closeDatabase = async (db: Database): Promise<void> => {
  await db.pool.end();
};

/**
 * Runs one parameterised statement; failures come back as DbFailure values. Transient failures
 * are retried within the retry budget: statements run through here are reads (or, inside a
 * transaction, roll back whole), so repeating one is safe.
 */
export const query = async <R extends QueryResultRow>(
  db: Database | PoolClient,
  text: string,
  values: readonly unknown[] = [],
  name?: string,
): Promise<E.Either<DbFailure, R[]>> => {
  const runner = 'pool' in db ? db.pool : db;
  try {
    const run = () => runner.query<R>(name ? { name, text, values: [...values] } : { text, values: [...values] });
    // A client inside a transaction cannot be retried alone: its transaction is gone with it.
    const res = 'pool' in db ? await retryTransient(run) : await run();
    return E.right(res.rows);
  } catch (err) {
    return E.left(fromPgError(err));
  }
};

/**
 * Runs `work` on one checked-out client, released afterwards (a statement's failure there is the
 * work's own business; a throw becomes a Left). `retryConnect` rides out a transient failure to
 * connect within the retry budget.
 */
export const withClient = async <L, A>(
  db: Database,
  work: (client: PoolClient) => Promise<E.Either<L, A>>,
  opts: { readonly retryConnect?: boolean } = {},
): Promise<E.Either<L | DbFailure, A>> => {
  let client: PoolClient;
  try {
    client = opts.retryConnect === true ? await retryTransient(() => db.pool.connect()) : await db.pool.connect();
  } catch (err) {
    return E.left(fromPgError(err));
  }
  try {
    return await work(client);
  } catch (err) {
    return E.left(fromPgError(err));
  } finally {
    client.release();
  }
};

/**
 * Runs `work` inside BEGIN/COMMIT on one client; a Left or a throw rolls back. `snapshot` makes it
 * a read-only REPEATABLE READ transaction: every read sees the same moment.
 */
export const withTransaction = <L, A>(
  db: Database,
  work: (client: PoolClient) => Promise<E.Either<L, A>>,
  opts: { readonly snapshot?: boolean } = {},
): Promise<E.Either<L | DbFailure, A>> =>
  withClient(
    db,
    async (client): Promise<E.Either<L | DbFailure, A>> => {
      try {
        await client.query(opts.snapshot === true ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
        const result = await work(client);
        await client.query(E.isRight(result) ? 'COMMIT' : 'ROLLBACK');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        return E.left(fromPgError(err));
      }
    },
    { retryConnect: true },
  );
