/** Settings precedence: flags > environment > orbit.config.js / .mjs > defaults. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { findConfigFile, loadConfigFile, loadSettings, resolveSettings } from '../../src/cli/config';

// (ES module config files need a real import(), which Jest's VM lacks: test/e2e/cli-manners.test.ts covers .mjs.)

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'orbit-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const project = (name: string, files: Record<string, string>): string => {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{}');
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
};

describe('orbit.config.js', () => {
  it('each setting comes from the flag, else the environment, else the file, else the default', async () => {
    const dir = project('cjs', {
      'orbit.config.js': `module.exports = { databaseUrl: 'postgres://file@h/db', schema: 'from_file', threshold: 30000, lease: '20s', dataDir: 'data', pipelines: './pipelines.js' };`,
    });
    const file = await loadConfigFile(path.join(dir, 'orbit.config.js'));
    if (E.isLeft(file)) throw new Error(file.left._tag);

    const fileOnly = resolveSettings({}, {}, file.right, dir);
    expect(fileOnly.databaseUrl).toMatchObject({ value: 'postgres://file@h/db', source: 'file' });
    expect(fileOnly.schema).toMatchObject({ value: 'from_file', source: 'file' });
    expect(fileOnly.threshold).toMatchObject({ value: '30000ms', source: 'file' });
    expect(fileOnly.lease).toMatchObject({ value: '20s', source: 'file' });
    expect(resolveSettings({}, { ORBIT_LEASE: '9s' }, file.right, dir).lease).toMatchObject({ value: '9s', source: 'env' });
    // Paths in the file are relative to the file.
    expect(fileOnly.dataDir).toMatchObject({ value: path.join(dir, 'data'), source: 'file' });
    expect(fileOnly.pipelines).toMatchObject({ value: path.join(dir, 'pipelines.js'), source: 'file' });

    const env = { DATABASE_URL: 'postgres://env@h/db', ORBIT_SCHEMA: 'from_env', ORBIT_INTERRUPTED_THRESHOLD: '1m' };
    const withEnv = resolveSettings({}, env, file.right, dir);
    expect(withEnv.databaseUrl).toMatchObject({ value: 'postgres://env@h/db', source: 'env', from: 'DATABASE_URL' });
    expect(withEnv.schema).toMatchObject({ value: 'from_env', source: 'env' });
    expect(withEnv.threshold).toMatchObject({ value: '1m', source: 'env' });

    const withFlags = resolveSettings({ schema: 'from_flag', threshold: '5s' }, env, file.right, dir);
    expect(withFlags.schema).toMatchObject({ value: 'from_flag', source: 'flag', from: '--schema' });
    expect(withFlags.threshold).toMatchObject({ value: '5s', source: 'flag' });
    expect(withFlags.databaseUrl.source).toBe('env');

    const none = resolveSettings({}, {}, undefined, path.join(dir, 'sub'));
    expect(none.schema).toMatchObject({ value: 'orbit', source: 'default' });
    expect(none.threshold).toMatchObject({ value: '10m', source: 'default' });
    expect(none.databaseUrl).toMatchObject({ value: undefined, source: 'default' });
    expect(none.dataDir).toMatchObject({ value: path.join(dir, '.orbit'), source: 'default' });
  });

  it('finds the config file at the project root from a subfolder', () => {
    const dir = project('nested', { 'orbit.config.mjs': 'export default {};\n' });
    expect(findConfigFile(path.join(dir, 'sub'))).toBe(path.join(dir, 'orbit.config.mjs'));
    expect(findConfigFile(root)).toBeUndefined();
  });

  it('refuses a setting of the wrong type in one line', async () => {
    const dir = project('bad', { 'orbit.config.js': `module.exports = { schema: 42 };` });
    const s = await loadSettings({}, {}, dir);
    expect(E.isLeft(s) && s.left).toMatchObject({ _tag: 'InvalidInput', what: 'config file' });
    expect(E.isLeft(s) && s.left._tag === 'InvalidInput' && s.left.message).toContain('schema has the wrong type');
  });
});
