/**
 * The CLI's messages a new user meets first: an unknown command, an unregistered pipeline, a
 * TypeScript pipelines module, an ES module one, and the table `orbit runs` prints.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_PATH, createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

let h: E2eHarness;
let dir: string;
beforeAll(async () => {
  h = await createE2eHarness('e2e_manners');
  dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-manners-'));
});
afterAll(async () => {
  await h.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('CLI manners', () => {
  it('an unknown command is named as unknown, with the nearest command, exit 2, before any database', async () => {
    // An unreachable database: a usage error must not get as far as connecting.
    const nowhere = 'postgres://nobody@127.0.0.1:1/none';
    const r = await h.cli(['histroy', 'some-run'], { databaseUrl: nowhere });
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['Error: unknown command "histroy". Did you mean "history"? Run "orbit --help" for usage.']);

    const far = await h.cli(['frobnicate'], { databaseUrl: nowhere });
    expect(far.code).toBe(2);
    expect(far.errLines).toEqual(['Error: unknown command "frobnicate". Run "orbit --help" for usage.']);
  });

  it('an unregistered pipeline names the three ways to register one', async () => {
    const r = await h.cli(['run', 'no-such-pipeline']);
    expectExit(r, 1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^Error: Pipeline "no-such-pipeline" is not registered/);
    expect(r.stderr).toContain('--pipelines <module>');
    expect(r.stderr).toContain('ORBIT_PIPELINES=<module>');
    expect(r.stderr).toContain('orbit.config.js');
  });

  it('--pipelines x.ts says a compiled module or a loader is needed', async () => {
    const ts = path.join(dir, 'pipelines.ts');
    writeFileSync(ts, "import { definePipeline } from 'orbit-pipeline';\nexport const p: unknown = definePipeline;\n");
    const r = await h.cli(['--pipelines', ts, 'run', 'anything'], { pipelines: false });
    expectExit(r, 1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain(`${ts} is TypeScript`);
    expect(r.errLines[0]).toContain('compile it and pass the .js file, or run orbit through a loader');
  });

  it('an ES module (.mjs) pipelines module is loaded with import()', async () => {
    const mjs = path.join(dir, 'pipelines.mjs');
    writeFileSync(
      mjs,
      "import { createRequire } from 'node:module';\n" +
        `const { definePipeline } = createRequire(${JSON.stringify(path.join(REPO_ROOT, 'package.json'))})('./dist/index.js');\n` +
        "export const esm = definePipeline({ name: 'esm-pipeline', steps: [{ name: 'only', handler: () => ({ success: true }) }] });\n",
    );
    const r = await h.cli(['--pipelines', mjs, 'run', 'esm-pipeline'], { pipelines: false });
    expectExit(r, 0);
    expect(r.stdout).toMatch(/Run \S+ succeeded/);
  });

  it('--verbose says which server is used when it comes from DATABASE_URL', async () => {
    const r = await h.cli(['runs', '--verbose', '--limit', '1']);
    expectExit(r, 0);
    expect(r.stderr).toMatch(/PostgreSQL at \S+ \(from DATABASE_URL\)/);
    const quiet = await h.cli(['runs', '--limit', '1']);
    expect(quiet.stderr).toBe('');
  });

  it('orbit runs prints a header row and a duration column', async () => {
    expectExit(await h.cli(['run', 'etl-pipeline']), 0);
    const r = await h.cli(['runs']);
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(/^RUN +PIPELINE +STATUS +STEPS +STARTED +DURATION$/);
    expect(r.lines[1]).toMatch(/ etl-pipeline +success +3\/3 +\S+Z +\d+(ms|\.\ds|s)$/);
  });
});

describe('orbit config', () => {
  it('shows each setting with its source: flag over environment over orbit.config.js', () => {
    const proj = path.join(dir, 'configured');
    mkdirSync(path.join(proj, 'sub'), { recursive: true });
    writeFileSync(path.join(proj, 'package.json'), '{}');
    writeFileSync(path.join(proj, 'orbit.config.js'), "module.exports = { schema: 'file_schema', threshold: '45s' };\n");
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: 'postgres://someone:secret@db.example:5432/x' };
    delete env.ORBIT_SCHEMA;
    delete env.ORBIT_INTERRUPTED_THRESHOLD;
    // From a subfolder: the file at the project root applies.
    const r = spawnSync(process.execPath, [CLI_PATH, 'config', '--json', '--threshold', '2m'], {
      cwd: path.join(proj, 'sub'),
      env,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, { value: string; source: string } | string>;
    expect(doc.configFile).toBe(path.join(proj, 'orbit.config.js'));
    expect(doc.schema).toMatchObject({ value: 'file_schema', source: 'file' });
    expect(doc.threshold).toMatchObject({ value: '2m', source: 'flag' });
    expect(doc.databaseUrl).toMatchObject({ value: 'postgres://someone:***@db.example:5432/x', source: 'env' });
    expect(doc.dataDir).toMatchObject({ value: path.join(proj, '.orbit'), source: 'default' });
  });

  it('reads the default export of orbit.config.mjs', () => {
    const proj = path.join(dir, 'esm-configured');
    mkdirSync(proj, { recursive: true });
    writeFileSync(path.join(proj, 'package.json'), '{}');
    writeFileSync(path.join(proj, 'orbit.config.mjs'), "export default { schema: 'esm_schema' };\n");
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ORBIT_SCHEMA;
    const r = spawnSync(process.execPath, [CLI_PATH, 'config', '--json'], { cwd: proj, env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as Record<string, unknown>).schema).toMatchObject({ value: 'esm_schema', source: 'file' });
  });
});
