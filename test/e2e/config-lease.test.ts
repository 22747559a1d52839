/**
 * The lease set in orbit.config.js reaches the executor through the client (connect's `leaseMs`),
 * not through the process's environment: the lease row of `orbit run` is renewed for 2 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliProcess, createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

describe('orbit.config.js lease', () => {
  let h: E2eHarness;
  let dir: string;
  beforeAll(async () => {
    h = await createE2eHarness('cfg_lease');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-cfg-lease-'));
    writeFileSync(path.join(dir, 'package.json'), '{ "name": "cfg-lease", "private": true }\n');
    writeFileSync(
      path.join(dir, 'orbit.config.js'),
      [
        `const fs = require('node:fs');`,
        `const { definePipeline } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'index.js'))});`,
        `const release = ${JSON.stringify(path.join(dir, 'release'))};`,
        `module.exports = {`,
        `  lease: '2s',`,
        `  pipelines: [definePipeline({ name: 'cfg-lease', steps: [{ name: 'hold', handler: async () => {`,
        `    while (!fs.existsSync(release)) await new Promise((r) => setTimeout(r, 50));`,
        `    return { success: true };`,
        `  } }] })],`,
        `};`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renews the run’s lease row for the file’s 2 s', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORBIT_')) env[k] = v;
    env.NO_COLOR = '1';
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'dist', 'cli', 'main.js'), '--schema', h.schema, 'run', 'cfg-lease'],
      {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const run = new CliProcess(child, ['run', 'cfg-lease'], 60_000);
    let leaseMs: number | undefined;
    await h.waitFor(
      'the run to be under a lease',
      async () => {
        const r = await h.pool.query<{ ms: string }>(
          `SELECT extract(epoch FROM lease_until - heartbeat_at) * 1000 AS ms FROM ${h.qs}.workers WHERE cardinality(held) = 1`,
        );
        leaseMs = r.rows[0] === undefined ? undefined : Math.round(Number(r.rows[0].ms));
        return leaseMs !== undefined;
      },
      30_000,
    );
    writeFileSync(path.join(dir, 'release'), '');
    const r = await run.done;
    expectExit(r, 0);
    expect(leaseMs).toBe(2000);
  });
});
