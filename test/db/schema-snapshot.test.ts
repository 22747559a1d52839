import { promises as fs } from 'node:fs';
import { Pool } from 'pg';
import { catalogOf, dumpSchema, renderSnapshot, SNAPSHOT_FILE } from '../support/schemaSnapshot';
import { createTestDatabase, testDatabaseUrl, uniqueSchemaName, type TestDatabase } from '../support/testDatabase';

/*
 * sql/schema.snapshot.sql shows, in one file, the schema the migrations build. It is generated
 * (`npm run schema:snapshot` sets ORBIT_UPDATE_SCHEMA_SNAPSHOT=1 and runs this file, which then
 * rewrites it from pg_dump). This file checks it without pg_dump, so on any server version: the
 * snapshot, run into an empty schema, must give the catalogs that running the migrations gives.
 */

let migrated: TestDatabase;
const pool = new Pool({ connectionString: testDatabaseUrl(), max: 2 });
const fromSnapshot: string[] = [];

beforeAll(async () => {
  migrated = await createTestDatabase('snap');
  if (process.env.ORBIT_UPDATE_SCHEMA_SNAPSHOT === '1') {
    await fs.writeFile(SNAPSHOT_FILE, await dumpSchema(migrated.url, migrated.schema));
  }
});

afterAll(async () => {
  for (const s of fromSnapshot) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
  await pool.end();
  await migrated.dispose();
});

/** A new schema built by running the snapshot. */
const buildFromSnapshot = async (): Promise<string> => {
  const schema = uniqueSchemaName('snapb');
  fromSnapshot.push(schema);
  await pool.query(renderSnapshot(await fs.readFile(SNAPSHOT_FILE, 'utf8'), schema));
  return schema;
};

const stale = 'sql/schema.snapshot.sql is stale: run `npm run schema:snapshot` and commit it';

describe('the schema snapshot', () => {
  it('builds exactly the schema the migrations build', async () => {
    const expected = await catalogOf(migrated.db.pool, migrated.schema);
    const actual = await catalogOf(pool, await buildFromSnapshot());
    const missing = expected.filter((l) => !actual.includes(l));
    const extra = actual.filter((l) => !expected.includes(l));
    if (missing.length + extra.length > 0) {
      throw new Error(`${stale}\nmigrations only:\n  ${missing.join('\n  ')}\nsnapshot only:\n  ${extra.join('\n  ')}`);
    }
    expect(actual).toEqual(expected);
  });

  it('the comparison sees a difference (a column the migrations do not have)', async () => {
    const schema = await buildFromSnapshot();
    await pool.query(`ALTER TABLE "${schema}".runs ADD COLUMN stray integer`);
    const actual = await catalogOf(pool, schema);
    expect(actual).toContain('column runs.stray integer');
    expect(actual).not.toEqual(await catalogOf(migrated.db.pool, migrated.schema));
  });
});
