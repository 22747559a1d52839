/**
 * `orbit db status | start | url | stop` on a private embedded server (--data-dir in a temporary
 * directory): status before and after, a URL that answers, the first-start line, and a stop.
 */
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';

jest.setTimeout(180_000);

let h: E2eHarness;
let dir: string;
let dataDir: string;
beforeAll(async () => {
  h = await createE2eHarness('e2e_db');
  dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-db-'));
  // As root the server runs as user postgres, which must be able to enter the directory.
  chmodSync(dir, 0o755);
  dataDir = path.join(dir, 'home');
});
afterAll(async () => {
  await h.cli(['db', 'stop', '--data-dir', dataDir], { schema: false, pipelines: false });
  await h.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const db = (action: string, extra: string[] = []) =>
  h.cli(['db', action, '--data-dir', dataDir, ...extra], { schema: false, pipelines: false, databaseUrl: '' });

describe('orbit db', () => {
  it('status of a server not created yet says so and starts nothing', async () => {
    const r = await db('status');
    expectExit(r, 0);
    expect(r.lines[0]).toBe('Embedded PostgreSQL: not created yet (created on first use)');
    expect(r.stdout).toContain(`data dir: ${path.join(dataDir, 'pg')}`);
  });

  it('start creates and starts it; url prints a URL that answers; status shows version, port, pid, size', async () => {
    const started = await db('start');
    expectExit(started, 0);
    expect(started.lines[0]).toMatch(/^✓ Started embedded PostgreSQL at 127\.0\.0\.1:\d+ .*stop it with "orbit db stop"$/);

    const url = await db('url');
    expectExit(url, 0);
    expect(url.lines).toHaveLength(1);
    expect(url.lines[0]).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const c = new Client({ connectionString: url.lines[0] });
    await c.connect();
    const one = await c.query<{ one: number }>('SELECT 1 AS one');
    await c.end();
    expect(one.rows[0]?.one).toBe(1);

    const status = await db('status', ['--json']);
    expectExit(status, 0);
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ running: true, initialized: true, url: url.lines[0], dataDir: path.join(dataDir, 'pg') });
    expect(typeof s.pid).toBe('number');
    expect(typeof s.version).toBe('string');
    expect(s.sizeBytes as number).toBeGreaterThan(1_000_000);
  });

  it('says which server Orbit uses when DATABASE_URL is set', async () => {
    const r = await h.cli(['db', 'status', '--data-dir', dataDir], { schema: false, pipelines: false });
    expectExit(r, 0);
    expect(r.stderr).toMatch(/Orbit uses .* \(from DATABASE_URL\), not this embedded server/);
  });

  it('a command on the running server is quiet about it; --verbose says it was reused', async () => {
    const quiet = await h.cli(['--data-dir', dataDir, 'runs'], { schema: false, pipelines: false, databaseUrl: '' });
    expectExit(quiet, 0);
    expect(quiet.stdout).toBe('No runs found\n');
    expect(quiet.stderr).toBe('');
    const verbose = await h.cli(['--data-dir', dataDir, '--verbose', 'runs'], {
      schema: false,
      pipelines: false,
      databaseUrl: '',
    });
    expectExit(verbose, 0);
    expect(verbose.errLines).toEqual([expect.stringMatching(/^embedded PostgreSQL at 127\.0\.0\.1:\d+ \(data in .*, reused\)$/)]);
  });

  it('stop stops it, and a second stop says it was not running', async () => {
    const stopped = await db('stop');
    expectExit(stopped, 0);
    expect(stopped.lines[0]).toMatch(/^✓ Stopped the embedded PostgreSQL/);
    const again = await db('stop');
    expectExit(again, 0);
    expect(again.lines[0]).toMatch(/was not running$/);
    const status = await db('status');
    expect(status.lines[0]).toBe('Embedded PostgreSQL: stopped');
  });
});
