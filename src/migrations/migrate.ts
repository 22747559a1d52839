import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { withClient, type Database } from '../db/database';
import { fromPgError } from '../db/pgErrors';
import type { DatabaseError, DbFailure } from '../errors';
import { applyMigration } from '../queries/applyMigration';
import { createMigrationsTable } from '../queries/createMigrationsTable';
import { listAppliedMigrations, type AppliedMigrationRow } from '../queries/listAppliedMigrations';
import { lockMigrations } from '../queries/lockMigrations';
import { migrationsTableExists } from '../queries/migrationsTableExists';
import { schemaExists } from '../queries/schemaExists';
import { unlockMigrations } from '../queries/unlockMigrations';

/**
 * Where the numbered migration files live: the package's `sql/`, found by walking up from this
 * file, so it works from src/ (tests), dist/ (the package) and dist-scripts/ (benchmarks) alike.
 */
const findSqlDir = (): string => {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'sql');
    if (existsSync(path.join(candidate, '001_journal.sql'))) return candidate;
  }
  return path.resolve(__dirname, '..', '..', 'sql');
};
export const SQL_DIR = findSqlDir();

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationReport {
  /** Migrations this call applied, in order. */
  readonly applied: readonly string[];
  /** Migrations that were already in place. */
  readonly alreadyApplied: number;
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Reads `sql/NNN_name.sql` in version order. The checksum is of the file as written. */
export const loadMigrations = async (dir: string = SQL_DIR): Promise<Migration[]> => {
  const files = (await fs.readdir(dir)).filter((f) => FILE_PATTERN.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const match = FILE_PATTERN.exec(file) as RegExpExecArray;
      const sql = await fs.readFile(path.join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
};

/** Splices the (validated, quoted) schema and the channel name into a migration's text. */
const render = (db: Database, sql: string): string => sql.replace(/__SCHEMA__/g, db.qs).replace(/__CHANNEL__/g, db.channel);

/** Whether every migration is recorded in the schema with an unchanged checksum. */
/** How the schema's recorded migrations compare with this version's. */
type SchemaVersion =
  | { readonly kind: 'current' }
  | { readonly kind: 'older' }
  /** Migrated by a newer Orbit: this code would call functions or columns that have changed. */
  | { readonly kind: 'newer'; readonly unknown: readonly string[] };

/** Old code on a newer schema refuses at once, instead of failing later on every append. */
const newerSchema = (db: Database, unknown: readonly string[]): DatabaseError => ({
  _tag: 'DatabaseError',
  code: undefined,
  message: `schema "${db.schema}" was migrated by a newer version of Orbit (${unknown.join(', ')} unknown to this one): upgrade this process to the version that migrated it`,
});

const compareVersions = async (
  client: PoolClient,
  db: Database,
  migrations: readonly Migration[],
): Promise<E.Either<DbFailure, SchemaVersion>> => {
  const exists = await migrationsTableExists(db, client);
  if (E.isLeft(exists)) return exists;
  if (!exists.right) return E.right({ kind: 'older' });
  return E.map((done: readonly AppliedMigrationRow[]): SchemaVersion => {
    const byVersion = new Map(done.map((r) => [r.version, r.checksum]));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = done.filter((r) => !known.has(r.version)).map((r) => r.name);
    if (unknown.length > 0) return { kind: 'newer', unknown };
    return migrations.every((m) => byVersion.get(m.version) === m.checksum) ? { kind: 'current' } : { kind: 'older' };
  })(await listAppliedMigrations(db, client));
};

/**
 * For a connection that does not migrate: the schema must already hold every migration of this
 * version of Orbit. A missing schema (a typo in --schema) or an older one is one line that names
 * it and says to run `orbit migrate`, instead of silently creating an empty schema.
 */
export const checkSchema = async (db: Database): Promise<E.Either<DbFailure, void>> => {
  const migrations = await loadMigrations();
  return withClient(db, async (client): Promise<E.Either<DbFailure, void>> => {
    const exists = await schemaExists(db, client);
    if (E.isLeft(exists)) return exists;
    const version: E.Either<DbFailure, SchemaVersion> = exists.right
      ? await compareVersions(client, db, migrations)
      : E.right({ kind: 'older' });
    if (E.isLeft(version)) return version;
    if (version.right.kind === 'current') return E.right(undefined);
    if (version.right.kind === 'newer') return E.left(newerSchema(db, version.right.unknown));
    return E.left({
      _tag: 'DatabaseError',
      code: undefined,
      message: exists.right
        ? `schema "${db.schema}" is older than this version of Orbit (or not an Orbit schema): run "orbit migrate" as the schema's owner`
        : `schema "${db.schema}" does not exist: run "orbit migrate" to create it (or check --schema / ORBIT_SCHEMA)`,
    });
  });
};

/** A DDL refused for lack of rights (42501) says what to do instead of only "permission denied". */
const withoutRights = (db: Database, e: DbFailure): DbFailure =>
  e._tag === 'DatabaseError' && e.code === '42501'
    ? {
        ...e,
        message: `schema "${db.schema}" is missing or older than this version of Orbit, and this role may not create or change it (${e.message}): run "orbit migrate" as the schema's owner`,
      }
    : e;

/**
 * Applies every migration not yet recorded in `<schema>.schema_migrations`, each in its own
 * transaction, under a session advisory lock keyed by the schema: two processes migrating at once
 * take turns, and the second finds nothing left to do. `migrations` defaults to every file of
 * sql/; tests pass the first few to build a schema as an older version left it.
 */
export const migrate = async (db: Database, migrations?: readonly Migration[]): Promise<E.Either<DbFailure, MigrationReport>> => {
  const all = migrations ?? (await loadMigrations());
  return migrateWith(db, all);
};

const migrateWith = async (db: Database, migrations: readonly Migration[]): Promise<E.Either<DbFailure, MigrationReport>> => {
  const lockKey = `orbit.migrate:${db.schema}`;
  return withClient(db, async (client): Promise<E.Either<DbFailure, MigrationReport>> => {
    try {
      await lockMigrations(client, lockKey);
      // An up-to-date schema needs no DDL at all, so a runtime role without DDL rights can connect.
      const version = await compareVersions(client, db, migrations);
      if (E.isLeft(version)) return E.left(withoutRights(db, version.left));
      if (version.right.kind === 'newer') return E.left(newerSchema(db, version.right.unknown));
      if (version.right.kind === 'current') return E.right({ applied: [], alreadyApplied: migrations.length });
      const created = await createMigrationsTable(db, client);
      if (E.isLeft(created)) return E.left(withoutRights(db, created.left));
      const done = await listAppliedMigrations(db, client);
      if (E.isLeft(done)) return E.left(withoutRights(db, done.left));
      const byVersion = new Map(done.right.map((r) => [r.version, r]));
      const applied: string[] = [];
      for (const m of migrations) {
        const prior = byVersion.get(m.version);
        if (prior) {
          if (prior.checksum !== m.checksum) {
            return E.left({
              _tag: 'DatabaseError',
              code: undefined,
              message: `migration ${m.name} was changed after it was applied (released migrations are never edited; add a new one)`,
            });
          }
          continue;
        }
        const r = await applyMigration(db, client, m, render(db, m.sql));
        if (E.isLeft(r)) {
          const e = withoutRights(db, r.left);
          return E.left(e._tag === 'DatabaseError' ? { ...e, message: `${m.name}: ${e.message}` } : e);
        }
        applied.push(m.name);
      }
      return E.right({ applied, alreadyApplied: migrations.length - applied.length });
    } catch (err) {
      return E.left(withoutRights(db, fromPgError(err)));
    } finally {
      await unlockMigrations(client, lockKey).catch(() => undefined);
    }
  });
};
