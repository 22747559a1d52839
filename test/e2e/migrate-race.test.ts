/**
 * `orbit migrate` from several processes at once on a fresh schema: everyone succeeds, and every
 * migration is applied exactly once (DESIGN "Database": migrations run under an advisory lock).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createE2eHarness, expectExit, randomHex, REPO_ROOT, type E2eHarness } from '../support/cli';

const MIGRATION_FILES = readdirSync(path.join(REPO_ROOT, 'sql'))
  .filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f))
  .sort();

describe('migrate race', () => {
  let h: E2eHarness;
  const schemas: string[] = [];

  beforeAll(async () => {
    h = await createE2eHarness('e2e_mig');
  });
  afterAll(async () => {
    for (const s of schemas) await h.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await h.dispose();
  });

  it('two orbit migrate processes started at the same moment on a fresh schema both exit 0 and apply each migration once', async () => {
    expect(MIGRATION_FILES.length).toBeGreaterThan(0);
    // Three fresh schemas, two racing processes each: more chances for the race to bite.
    const fresh = [0, 1, 2].map(() => `e2e_migrace_${randomHex()}`);
    schemas.push(...fresh);
    const results = await Promise.all(
      fresh.flatMap((schema) => [0, 1].map(() => h.cli(['migrate'], { schema, pipelines: false }).then((r) => ({ schema, r })))),
    );
    for (const { schema, r } of results) {
      expectExit(r, 0);
      expect(r.lines).toContain(
        `✓ Schema "${schema}" is up to date (${MIGRATION_FILES.length} migration(s): ${MIGRATION_FILES.join(', ')})`,
      );
      expect(r.stderr).toBe('');
    }
    for (const schema of fresh) {
      const rows = await h.pool.query<{ name: string; n: number }>(
        `SELECT name, count(*)::int AS n FROM "${schema}".schema_migrations GROUP BY name ORDER BY name`,
      );
      expect(rows.rows).toEqual(MIGRATION_FILES.map((name) => ({ name, n: 1 })));
      // The schema is usable: the journal exists and is empty.
      const events = await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".run_events`);
      expect(events.rows[0]?.n).toBe(0);
    }
  });

  it('migrate --json on an up-to-date schema lists the migrations and changes nothing', async () => {
    const schema = schemas[0] as string;
    const r = await h.cli(['migrate', '--json'], { schema, pipelines: false });
    expectExit(r, 0);
    expect(JSON.parse(r.stdout)).toEqual({ schema, migrations: MIGRATION_FILES });
    const rows = await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".schema_migrations`);
    expect(rows.rows[0]?.n).toBe(MIGRATION_FILES.length);
  });
});
