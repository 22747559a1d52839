import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { checkSchema, migrate } from '../../src/migrations/migrate';
import { formatError } from '../../src/errors';
import { expectLeft, expectRight, testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';

/*
 * Migrations: every file in sql/, in order, once per schema, even when two processes migrate the
 * same fresh schema at the same moment.
 */

const SQL_DIR = path.resolve(__dirname, '..', '..', 'sql');

/** The migration files as they are on disk, in the order they must be applied. */
const migrationFiles = async (): Promise<{ version: number; name: string; checksum: string }[]> => {
  const names = (await fs.readdir(SQL_DIR)).filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    names.map(async (name) => ({
      version: Number(name.slice(0, name.indexOf('_'))),
      name,
      checksum: createHash('sha256')
        .update(await fs.readFile(path.join(SQL_DIR, name), 'utf8'))
        .digest('hex'),
    })),
  );
};

const opened: Database[] = [];
const schemas = new Set<string>();

/** A pool on a schema that does not exist yet; closed and dropped after the file. */
const freshPool = (schema: string): Database => {
  const r = openDatabase({ url: testDatabaseUrl(), schema, max: 2 });
  if (E.isLeft(r)) throw new Error(formatError(r.left));
  opened.push(r.right);
  schemas.add(schema);
  return r.right;
};

const recorded = async (db: Database) =>
  (
    await db.pool.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
      `SELECT version, name, checksum, applied_at FROM ${db.qs}.schema_migrations ORDER BY version`,
    )
  ).rows;

afterAll(async () => {
  const [first] = opened;
  if (first) for (const s of schemas) await first.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await Promise.all(opened.map(closeDatabase));
});

describe('migrate', () => {
  it('on a fresh schema applies every file in sql/, in order, and records each one', async () => {
    const db = freshPool(uniqueSchemaName('mig'));
    const files = await migrationFiles();

    expect(files.length).toBeGreaterThan(0);

    const report = expectRight(await migrate(db));

    expect(report).toEqual({ applied: files.map((f) => f.name), alreadyApplied: 0 });
    const rows = await recorded(db);
    expect(rows.map(({ version, name, checksum }) => ({ version, name, checksum }))).toEqual(files);
    // Each migration commits on its own, one after the other.
    const times = rows.map((r) => r.applied_at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('creates the journal, the projections and the append function in the schema', async () => {
    const db = freshPool(uniqueSchemaName('mig'));
    expectRight(await migrate(db));
    const tables = await db.pool.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [db.schema],
    );
    expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['run_events', 'runs', 'schema_migrations', 'steps']));
    const functions = await db.pool.query<{ name: string }>(
      `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`,
      [db.schema],
    );
    expect(functions.rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['append_run_events', 'event_hash', 'reject_journal_change']),
    );
  });

  it('migrating again applies nothing and leaves the records as they were', async () => {
    const db = freshPool(uniqueSchemaName('mig'));
    const files = await migrationFiles();
    expectRight(await migrate(db));
    const before = await recorded(db);

    expect(expectRight(await migrate(db))).toEqual({ applied: [], alreadyApplied: files.length });
    expect(await recorded(db)).toEqual(before);
  });

  it('two pools migrating the same fresh schema at the same time both succeed, and each migration is recorded once', async () => {
    const files = await migrationFiles();
    // A few rounds: the race is only worth something if it is run more than once.
    for (let round = 0; round < 5; round++) {
      const schema = uniqueSchemaName('race');
      const a = freshPool(schema);
      const b = freshPool(schema);

      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const reports = [expectRight(ra), expectRight(rb)];

      // Between them they applied every file exactly once; the other found them in place.
      expect(reports.flatMap((r) => r.applied).sort()).toEqual(files.map((f) => f.name));
      expect(reports.map((r) => r.applied.length + r.alreadyApplied)).toEqual([files.length, files.length]);
      const counts = await a.pool.query<{ version: number; n: number }>(
        `SELECT version, count(*)::int AS n FROM ${a.qs}.schema_migrations GROUP BY version ORDER BY version`,
      );
      expect(counts.rows).toEqual(files.map((f) => ({ version: f.version, n: 1 })));
    }
  });

  it('schemas are migrated independently of each other', async () => {
    const files = await migrationFiles();
    const first = freshPool(uniqueSchemaName('mig'));
    const second = freshPool(uniqueSchemaName('mig'));
    expectRight(await migrate(first));
    expect(expectRight(await migrate(second)).applied).toEqual(files.map((f) => f.name));
  });

  it('refuses to go on when an applied migration no longer matches its file, and applies nothing', async () => {
    const db = freshPool(uniqueSchemaName('mig'));
    const files = await migrationFiles();
    expectRight(await migrate(db));
    const first = files[0]!;
    await db.pool.query(`UPDATE ${db.qs}.schema_migrations SET checksum = 'edited' WHERE version = $1`, [first.version]);

    const refused = expectLeft(await migrate(db));
    expect(refused).toMatchObject({ _tag: 'DatabaseError' });
    expect(formatError(refused)).toContain(first.name);
    expect((await recorded(db)).map((r) => r.version)).toEqual(files.map((f) => f.version));
  });

  it('a schema migrated by a newer Orbit is refused by migrate and by the schema check, naming the unknown migration', async () => {
    const db = freshPool(uniqueSchemaName('mig'));
    expectRight(await migrate(db));
    expectRight(await checkSchema(db));
    await db.pool.query(
      `INSERT INTO ${db.qs}.schema_migrations (version, name, checksum) VALUES (9999, '9999_from_the_future.sql', 'x')`,
    );

    for (const refused of [expectLeft(await checkSchema(db)), expectLeft(await migrate(db))]) {
      expect(refused).toMatchObject({ _tag: 'DatabaseError' });
      expect(formatError(refused)).toContain(
        'migrated by a newer version of Orbit (9999_from_the_future.sql unknown to this one)',
      );
    }
  });

  it('an unreachable database is DatabaseUnavailable, not a crash', async () => {
    const r = openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', schema: uniqueSchemaName('mig') });
    if (E.isLeft(r)) throw new Error(formatError(r.left));
    try {
      expect(expectLeft(await migrate(r.right))).toMatchObject({ _tag: 'DatabaseUnavailable' });
    } finally {
      await closeDatabase(r.right);
    }
  });
});
