/**
 * A project in a 0700 home (the usual container case). As root, PostgreSQL runs as user
 * postgres, which cannot enter that home: the embedded server must still work, with no chmod,
 * from a shared cache (/var/tmp/orbit-0/<hash>) that records the project's .orbit path. Not as
 * root, the home is ours and the cluster stays in the project's .orbit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as E from 'fp-ts/Either';
import { locateBinaries, platformPackage } from '../../src/server/embedded/binaries';
import { reachableBinaries, sharedHomeFor, sharedRoot } from '../../src/server/embedded/sharedHome';
import { resolveRunAs } from '../../src/server/embedded/user';
import { CLI_PATH } from '../support/cli';

jest.setTimeout(180_000);

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

let home: string;
let project: string;
const removeAfter: string[] = [];

/** The built CLI with cwd in the project and no DATABASE_URL or ORBIT_* settings. */
const orbit = async (args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORBIT_') && k !== 'DATABASE_URL') env[k] = v;
  try {
    const r = await run(process.execPath, [CLI_PATH, ...args], { cwd: project, env, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-0700-'));
  // mkdtemp makes it 0700 already: the point of the test. No chmod anywhere below.
  project = path.join(home, 'app');
  mkdirSync(path.join(project, 'src'), { recursive: true });
  writeFileSync(path.join(project, 'package.json'), '{ "name": "app", "private": true }\n');
  removeAfter.push(home);
  if (asRoot) removeAfter.push(sharedHomeFor(path.join(project, '.orbit')));
});
afterAll(async () => {
  await orbit(['db', 'stop']);
  for (const p of removeAfter) rmSync(p, { recursive: true, force: true });
});

describe('the embedded server of a project in a 0700 home', () => {
  it('orbit db start works without a chmod, and says where the data is', async () => {
    const started = await orbit(['db', 'start']);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    const expected = asRoot ? path.join(sharedHomeFor(path.join(project, '.orbit')), 'pg') : path.join(project, '.orbit', 'pg');
    expect(started.stdout).toContain(`(data in ${expected})`);

    const status = await orbit(['db', 'status', '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { dataDir: string; running: boolean; port: number };
    expect(s).toMatchObject({ dataDir: expected, running: true });
    expect(s.port).not.toBe(5432);
    // The shared home names the project it belongs to.
    if (asRoot)
      expect(readFileSync(path.join(sharedHomeFor(path.join(project, '.orbit')), 'project'), 'utf8')).toBe(
        `${path.join(project, '.orbit')}\n`,
      );
  });

  it('orbit runs, from the project and from a subfolder, uses that same server', async () => {
    for (const sub of ['', 'src']) {
      const r = await run(process.execPath, [CLI_PATH, 'runs', '--verbose'], {
        cwd: path.join(project, sub),
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ORBIT_') && k !== 'DATABASE_URL')),
        timeout: 120_000,
      });
      expect(r.stdout.trim()).toBe('No runs found');
      expect(r.stderr).toMatch(/embedded PostgreSQL at 127\.0\.0\.1:\d+ \(data in .*pg, reused\)/);
    }
  });

  it('binaries the postgres account cannot reach are copied once to the shared cache and run from there', async () => {
    // A copy of the platform package inside the 0700 home, as `npm i` in that project makes.
    const entry = require.resolve(platformPackage());
    const pkgDir = path.resolve(path.dirname(entry), '..');
    const local = path.join(home, 'app', 'node_modules', platformPackage());
    cpSync(pkgDir, local, { recursive: true, verbatimSymlinks: true });
    const bins = locateBinaries(path.join(local, path.relative(pkgDir, entry)));
    if (E.isLeft(bins)) throw new Error(bins.left.message);
    const runAs = await resolveRunAs('/', process.env);
    if (E.isLeft(runAs)) throw new Error(runAs.left.message);
    const usable = await reachableBinaries(bins.right, runAs.right);
    if (!asRoot) {
      expect(usable).toEqual(bins.right);
      return;
    }
    removeAfter.push(path.resolve(usable.postgres, '..', '..'));
    expect(usable.postgres.startsWith(`${sharedRoot()}/pg-`)).toBe(true);
    const account = runAs.right;
    if (account === undefined) throw new Error('root without a postgres account');
    const version = execFileSync('setpriv', [
      `--reuid=${account.uid}`,
      `--regid=${account.gid}`,
      '--clear-groups',
      usable.initdb,
      '--version',
    ]).toString();
    expect(version).toMatch(/^initdb \(PostgreSQL\) \d+/);
    // Once: a second call finds the copy.
    expect(await reachableBinaries(bins.right, runAs.right)).toEqual(usable);
  });
});
