import { createE2eHarness, expectExit, randomHex, type E2eHarness } from '../support/cli';

/*
 * Issue 10 item 7: only `orbit migrate` (or an explicit --migrate / ORBIT_MIGRATE=1) creates a
 * schema. Anything else on a missing schema, a typo in --schema, is one line and exit 1, and
 * leaves the database as it was: no new empty schema, no "No interrupted runs found".
 */
describe('--schema names an existing Orbit schema', () => {
  let h: E2eHarness;
  const created: string[] = [];
  const exists = async (schema: string): Promise<boolean> =>
    (await h.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_schreq');
  });
  afterAll(async () => {
    for (const s of created) await h.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await h.dispose();
  });

  it.each([[['check-interrupted']], [['runs']], [['run', 'data-pipeline']], [['verify']], [['recover', '--auto-resume']]])(
    'orbit %j on a mistyped schema is one line, exit 1, and creates nothing',
    async (args) => {
      const schema = `${h.schema}_typo`;
      const r = await h.cli(args, { schema });
      expectExit(r, 1);
      expect(r.stdout).toBe('');
      expect(r.errLines).toEqual([
        `Error: Database error: schema "${schema}" does not exist: run "orbit migrate" to create it (or check --schema / ORBIT_SCHEMA)`,
      ]);
      expect(await exists(schema)).toBe(false);
    },
  );

  it('a schema older than the code is refused with the advice to run orbit migrate', async () => {
    const schema = `e2e_old_${randomHex()}`;
    created.push(schema);
    expectExit(await h.cli(['migrate'], { schema, pipelines: false }), 0);
    // Forget the newest migration, as if the schema had been made by the previous release.
    await h.pool.query(
      `DELETE FROM "${schema}".schema_migrations WHERE version = (SELECT max(version) FROM "${schema}".schema_migrations)`,
    );
    const r = await h.cli(['runs'], { schema });
    expectExit(r, 1);
    expect(r.errLines).toEqual([
      `Error: Database error: schema "${schema}" is older than this version of Orbit (or not an Orbit schema): run "orbit migrate" as the schema's owner`,
    ]);
  });

  it('--migrate and ORBIT_MIGRATE=1 create the schema before the command; ORBIT_MIGRATE=0 does not', async () => {
    const a = `e2e_flag_${randomHex()}`;
    const b = `e2e_env_${randomHex()}`;
    const c = `e2e_off_${randomHex()}`;
    created.push(a, b, c);
    const viaFlag = await h.cli(['--migrate', 'check-interrupted'], { schema: a });
    expectExit(viaFlag, 0);
    expect(viaFlag.stdout).toContain('No interrupted runs found');
    expectExit(await h.cli(['check-interrupted'], { schema: b, env: { ORBIT_MIGRATE: '1' } }), 0);
    expectExit(await h.cli(['check-interrupted'], { schema: c, env: { ORBIT_MIGRATE: '0' } }), 1);
    expect([await exists(a), await exists(b), await exists(c)]).toEqual([true, true, false]);
  });

  it.each(['public', 'information_schema', 'pg_catalog'])('refuses the system schema %s, even for migrate', async (schema) => {
    for (const args of [['migrate'], ['runs']]) {
      const r = await h.cli(args, { schema, pipelines: false });
      // A bad value, like every other bad value: a usage error (issue 20 item 16).
      expectExit(r, 2);
      expect(r.errLines).toEqual([
        `Error: Invalid schema name "${schema}": use lower-case letters, digits and _ (at most 48 characters, not starting with a digit or pg_; not public or information_schema)`,
      ]);
    }
  });
});
