/** Where the embedded server lives: --data-dir, else ORBIT_HOME, else .orbit at the project root. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embeddedHome, projectRoot } from '../../src/server/resolveDatabase';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'orbit-datadir-'));
  mkdirSync(path.join(root, 'app', 'src', 'jobs'), { recursive: true });
  writeFileSync(path.join(root, 'app', 'package.json'), '{}');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the embedded data directory', () => {
  it('is .orbit at the nearest package.json, whichever subfolder the command runs in', () => {
    const app = path.join(root, 'app');
    expect(projectRoot(path.join(app, 'src', 'jobs'))).toBe(app);
    expect(embeddedHome({ cwd: path.join(app, 'src', 'jobs'), env: {} })).toBe(path.join(app, '.orbit'));
    expect(embeddedHome({ cwd: app, env: {} })).toBe(path.join(app, '.orbit'));
  });

  it('is .orbit in the working directory when no package.json is above it', () => {
    const bare = path.join(root, 'bare');
    mkdirSync(bare, { recursive: true });
    // tmpdir has no package.json above it on any machine this runs on.
    expect(embeddedHome({ cwd: bare, env: {} })).toBe(path.join(bare, '.orbit'));
  });

  it('is ORBIT_HOME when set, and --data-dir over both (relative to the working directory)', () => {
    const cwd = path.join(root, 'app', 'src');
    expect(embeddedHome({ cwd, env: { ORBIT_HOME: '/srv/orbit' } })).toBe('/srv/orbit');
    expect(embeddedHome({ cwd, env: { ORBIT_HOME: '/srv/orbit' }, dataDir: 'here' })).toBe(path.join(cwd, 'here'));
    expect(embeddedHome({ cwd, env: { ORBIT_HOME: '' } })).toBe(path.join(root, 'app', '.orbit'));
  });
});
