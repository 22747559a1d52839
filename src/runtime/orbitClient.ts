import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../db/database';
import { readServerVersion } from '../queries/readServerVersion';
import { readSessionState } from '../queries/readSessionState';
import { checkSchema, migrate as runMigrations } from '../migrations/migrate';
import { resolveDatabase, type ResolvedDatabase } from '../server/resolveDatabase';
import type { ConnectFailure } from '../errors';
import { registry as defaultRegistry, type Registry } from '../pipeline/registry';
import { resolveSettings, type ClientSettings, type Env, type SettingOptions } from './settings';

/**
 * One connection to Orbit: a pool on one schema, the pipelines it knows, and who this process is.
 * Everything in the library takes one (the spec-style free functions use `defaultClient()`).
 */
export interface OrbitClient extends ClientSettings {
  /** @internal Raw pool access: internal only (and kept out of the .d.ts, which must not need pg's types). */
  readonly db: Database;
  /**
   * @internal Where read-only work goes (`runs`, `history`, `verify`, `export`, `stats`, the
   * dashboard's reads): the replica of `readUrl`, else the same pool as `db`.
   */
  readonly readDb: Database;
  /** The read replica's URL (`connect({ readUrl })`, `ORBIT_READ_URL`), or undefined: reads go to the primary. */
  readonly readUrl: string | undefined;
  readonly registry: Registry;
  /** The PostgreSQL URL in use (`DATABASE_URL`, the option, or the embedded server's), e.g. for a step's own pool. */
  readonly databaseUrl: string;
  /** This process, as journaled in `writer` and in `run.claimed`/`run.resumed`: host:pid:random. */
  readonly workerId: string;
  /** The schema of Orbit's tables. */
  readonly schema: string;
  /** @internal Where the database is (for the CLI's messages). */
  readonly database: ResolvedDatabase;
  /** @internal Runs `hook` when the client closes (before the pool ends): listeners, heartbeats. */
  onClose(hook: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface ConnectOptions extends SettingOptions {
  /** Wins over `DATABASE_URL`; with neither, an embedded PostgreSQL under `.orbit/` is used. */
  readonly databaseUrl?: string;
  /**
   * A replica (streaming standby) for read-only work: listing runs, reading a run's events,
   * verify, export, stats and the dashboard's pages read there; writes, leases and LISTEN always
   * go to `databaseUrl`. Default `ORBIT_READ_URL`, else none (everything on the primary).
   */
  readonly readUrl?: string;
  /** Schema of Orbit's tables. Default `orbit`, or `ORBIT_SCHEMA`. */
  readonly schema?: string;
  /** Default: the process-wide `registry`. */
  readonly registry?: Registry;
  /**
   * Create or upgrade the schema on connect (needs DDL rights). Default: `ORBIT_MIGRATE=1`, else
   * only for the default schema of the embedded server Orbit manages itself. Without it the schema
   * must already be current (see `orbit migrate`), so a runtime role needs no DDL rights and a
   * mistyped schema is an error rather than a new, empty schema.
   */
  readonly migrate?: boolean;
  /** Pool size. Default 10. */
  readonly poolSize?: number;
  /** Where the embedded server lives (used without a database URL). Default `ORBIT_HOME`, else `.orbit` at the project root (nearest package.json). */
  readonly dataDir?: string;
  readonly cwd?: string;
  /**
   * Where the settings not given as options are read: `DATABASE_URL`, `ORBIT_SCHEMA`,
   * `ORBIT_HOME`, `ORBIT_MIGRATE`, `ORBIT_INTERRUPTED_THRESHOLD`, `ORBIT_LEASE`,
   * `ORBIT_RETRY_BUDGET_MS`, `ORBIT_APPEND_SLOTS`, `ORBIT_READ_URL`. Default `process.env`. (A plain record: the
   * published types must not need @types/node.)
   */
  readonly env?: Env;
}

export const newWorkerId = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** Resolves the database, checks it answers, migrates (unless told not to) and returns a client. */
export const connect = async (opts: ConnectOptions = {}): Promise<E.Either<ConnectFailure, OrbitClient>> => {
  const env = opts.env ?? process.env;
  const settings = resolveSettings(opts, env);
  if (E.isLeft(settings)) return settings;
  const { clock, logger, retryBudgetMs, appendSlots } = settings.right;
  const resolved = await resolveDatabase({
    databaseUrl: opts.databaseUrl,
    env,
    clock,
    cwd: opts.cwd ?? process.cwd(),
    dataDir: opts.dataDir,
  });
  if (E.isLeft(resolved)) return resolved;
  const opened = openDatabase({
    url: resolved.right.url,
    schema: opts.schema ?? env.ORBIT_SCHEMA,
    max: opts.poolSize,
    retryBudgetMs,
    appendSlots,
    clock,
    logger,
    readSessionState,
  });
  if (E.isLeft(opened)) return opened;
  const db = opened.right;
  const alive = await readServerVersion(db);
  if (E.isLeft(alive)) {
    await closeDatabase(db);
    return alive;
  }
  const shouldMigrate =
    opts.migrate ??
    (env.ORBIT_MIGRATE !== undefined && env.ORBIT_MIGRATE !== ''
      ? !['0', 'false', 'no'].includes(env.ORBIT_MIGRATE.toLowerCase())
      : resolved.right.source === 'embedded' && opts.schema === undefined && env.ORBIT_SCHEMA === undefined);
  {
    const m = shouldMigrate ? await runMigrations(db) : await checkSchema(db);
    if (E.isLeft(m)) {
      await closeDatabase(db);
      return m;
    }
  }
  const readUrl =
    opts.readUrl ?? (env.ORBIT_READ_URL !== undefined && env.ORBIT_READ_URL !== '' ? env.ORBIT_READ_URL : undefined);
  let readDb = db;
  if (readUrl !== undefined) {
    const replica = openDatabase({
      url: readUrl,
      schema: db.schema,
      max: Math.min(opts.poolSize ?? 10, 4),
      applicationName: 'orbit-reads',
      retryBudgetMs,
      appendSlots,
      clock,
      logger,
      readSessionState,
    });
    if (E.isLeft(replica)) {
      await closeDatabase(db);
      return E.left(replica.left._tag === 'InvalidInput' ? { ...replica.left, what: 'readUrl' } : replica.left);
    }
    const answers = await readServerVersion(replica.right);
    if (E.isLeft(answers)) {
      await closeDatabase(replica.right);
      await closeDatabase(db);
      return answers;
    }
    readDb = replica.right;
  }
  const hooks: Array<() => Promise<void>> = [];
  let closed: Promise<void> | undefined;
  return E.right({
    db,
    readDb,
    readUrl,
    databaseUrl: resolved.right.url,
    registry: opts.registry ?? defaultRegistry,
    workerId: newWorkerId(),
    schema: db.schema,
    ...settings.right,
    database: resolved.right,
    onClose: (hook) => void hooks.push(hook),
    close: () => {
      closed ??= (async () => {
        for (const hook of hooks.splice(0)) await hook().catch(() => undefined);
        if (readDb !== db) await closeDatabase(readDb);
        await closeDatabase(db);
      })();
      return closed;
    },
  });
};

let shared: Promise<E.Either<ConnectFailure, OrbitClient>> | undefined;

/** The client the spec-style free functions use when none is passed: connects once, from the environment. */
export const defaultClient = (): Promise<E.Either<ConnectFailure, OrbitClient>> => {
  shared ??= connect();
  return shared;
};

/** Closes the default client (scripts call this before exiting). */
export const closeDefaultClient = async (): Promise<void> => {
  const c = shared;
  shared = undefined;
  if (c) {
    const r = await c;
    if (E.isRight(r)) await r.right.close();
  }
};

/** Uses the given client or the default one. */
export const clientOr = (client?: OrbitClient): Promise<E.Either<ConnectFailure, OrbitClient>> =>
  client ? Promise.resolve(E.right(client)) : defaultClient();

/** @internal The client as read-only work sees it: its pool is the read replica's (the same client without one). */
export const readingClient = (c: OrbitClient): OrbitClient => (c.readDb === c.db ? c : { ...c, db: c.readDb });
