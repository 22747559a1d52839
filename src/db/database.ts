import * as E from 'fp-ts/Either';
import { Client, Pool, type ClientConfig, type PoolClient, type QueryResultRow } from 'pg';
import type { DbFailure, InvalidInput, InvalidSchemaName } from '../errors';
import { parseConnectionTarget, type ConnectionTarget } from './connectionTarget';
import { timedClient } from './connectTimeout';
import { HostSelector, selectingClient, type SessionStateReader } from './hostSelector';
import { channelFor, DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from './identifiers';
import { fromPgError } from './pgErrors';
import { retryTransient } from './retryTransient';
import { systemClock, type Clock } from '../util/clock';
import { silentLogger, type Logger } from '../util/logger';

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
  /**
   * Opens a connection of its own (not the pool's) to the host the URL selects: the LISTEN
   * connection. Call `connect()` on it.
   */
  readonly newClient: (config: Omit<ClientConfig, 'connectionString'>) => Client;
  /** @internal Set for a URL that needs selecting (several hosts, or `target_session_attrs`). */
  readonly selector: HostSelector | undefined;
  /** Transient failures are retried for this long (ms) before a statement fails. */
  readonly retryBudgetMs: number;
  /** Group commit: how many append commits may be in flight at once. */
  readonly appendSlots: number;
  /** The client's clock and logger, for what runs below the client (retries, the lease, LISTEN). */
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface OpenDatabaseOptions {
  readonly url: string;
  /** Schema holding Orbit's tables. Default `orbit`. */
  readonly schema?: string;
  /** Pool size. Default 10. */
  readonly max?: number;
  /** Name reported in pg_stat_activity. Default `orbit`. */
  readonly applicationName?: string;
  /** Default 30 s (the client's setting: `connect({ retryBudgetMs })`, `ORBIT_RETRY_BUDGET_MS`). */
  readonly retryBudgetMs?: number;
  /** Default 2 (the client's setting: `ORBIT_APPEND_SLOTS`). */
  readonly appendSlots?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Reads whether a session is a standby or read-only: needed for `target_session_attrs` other
   * than `any` (the client passes src/queries/readSessionState.ts; src/db holds no SQL).
   */
  readonly readSessionState?: SessionStateReader;
}

/**
 * How long (ms) a statement keeps being retried through transient failures before the caller
 * gets the error: long enough to ride out a fast restart or a failover of PostgreSQL, short
 * enough that a process whose database is gone for good releases its runs and says so.
 */
export const DEFAULT_RETRY_BUDGET_MS = 30_000;

/**
 * Commits in flight at once (group commit). With one, the server executes each batch on a single
 * backend while the other core may idle, and a run waits for the commit in flight plus its own;
 * with two, one batch forms while the other commits. S2 (16 runs) on a loaded 2-core machine:
 * 0.10–0.19× with one, 0.14–0.22× with two, 0.19–0.23× with four (docs/PERFORMANCE.md); two keeps
 * most of the sharing (0.26 commits per step against 0.15 with one and 0.44 with four).
 */
export const DEFAULT_APPEND_SLOTS = 2;

/** How long the pool lets a caller wait for a connection (a free one, or a new one) before failing it. */
const POOL_WAIT_MS = 10_000;

/**
 * The pool's own limit on a new connection must outlast the selector's: searching every host
 * (each within connect_timeout) and connecting to the one picked. Cut earlier, a search past a
 * silent first host would fail with the pool's message, which names no host.
 */
const poolWaitMs = (t: ConnectionTarget, selecting: boolean): number =>
  t.connectTimeoutMs === undefined
    ? POOL_WAIT_MS
    : Math.max(POOL_WAIT_MS, t.connectTimeoutMs * (selecting ? t.hosts.length + 1 : 1) + 2_000);

const noSessionState: SessionStateReader = () => {
  throw new Error('target_session_attrs needs openDatabase({ readSessionState })');
};

/**
 * Validates the URL and the schema name and creates a pool. No connection is made until the first
 * query. A URL with several hosts or `target_session_attrs` gets a HostSelector: every connection
 * goes to the host it picks.
 */
export const openDatabase = (opts: OpenDatabaseOptions): E.Either<InvalidSchemaName | InvalidInput, Database> => {
  const schema = opts.schema ?? DEFAULT_SCHEMA;
  const target = parseConnectionTarget(opts.url, 'database URL');
  if (E.isLeft(target)) return target;
  const logger = opts.logger ?? silentLogger;
  const selecting = target.right.hosts.length > 1 || target.right.attrs !== 'any';
  const selector = selecting
    ? new HostSelector(target.right, opts.readSessionState ?? noSessionState, logger, {
        application_name: opts.applicationName ?? 'orbit',
      })
    : undefined;
  const ClientClass = selector ? selectingClient(selector) : timedClient(target.right.connectTimeoutMs);
  // The first host's URL carries the user, database and parameters; the selector sets the host.
  const connectionString = target.right.urls[0] ?? opts.url;
  return E.map((valid: string) => {
    const pool = new Pool({
      connectionString,
      Client: ClientClass,
      max: opts.max ?? 10,
      application_name: opts.applicationName ?? 'orbit',
      connectionTimeoutMillis: poolWaitMs(target.right, selecting),
      // Scripts that finish their work exit without closing the pool first.
      idleTimeoutMillis: 5_000,
      allowExitOnIdle: true,
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // Nor may a checked-out one between two statements (a transaction, the migration lock): pg-pool
    // listens only on idle clients, and a restart's 57P01 would be an unhandled 'error' event.
    pool.on('connect', (client) => client.on('error', () => undefined));
    return {
      pool,
      schema: valid,
      qs: quoteIdent(valid),
      channel: channelFor(valid),
      url: opts.url,
      newClient: (config: Omit<ClientConfig, 'connectionString'>) => new ClientClass({ ...config, connectionString }),
      selector,
      retryBudgetMs: opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS,
      appendSlots: opts.appendSlots ?? DEFAULT_APPEND_SLOTS,
      clock: opts.clock ?? systemClock,
      logger,
    };
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
    const res = 'pool' in db ? await retryTransient(db, run) : await run();
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
    client = opts.retryConnect === true ? await retryTransient(db, () => db.pool.connect()) : await db.pool.connect();
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
