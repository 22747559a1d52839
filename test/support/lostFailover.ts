/**
 * The setup of the tests where an asynchronous failover loses transitions (test/db/failoverLost*):
 * a throwaway primary and its replica with a relay (never the shared server), Orbit's schema
 * migrated on the primary, `orbit` processes and pools against it, all torn down after the file.
 * Registers its own beforeAll/afterAll; `pair` and `dir` are set once beforeAll ran.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { Pool } from 'pg';
import { startReplicaPair, type ReplicaPair } from '../../scripts/chaos/replicaPair';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { migrate } from '../../src/migrations/migrate';
import { CLI_PATH, CliProcess, FIXTURE_PIPELINES, REPO_ROOT } from './cli';

export interface LostFailover {
  readonly schema: string;
  readonly runId: string;
  /** The primary and its replica (set by beforeAll). */
  readonly pair: ReplicaPair;
  /** A temporary directory for the fixture's marker files (set by beforeAll). */
  readonly dir: string;
  /** `orbit` with the fixture pipelines on the pair's URL (both hosts), killed after the file. */
  orbit(args: readonly string[]): CliProcess;
  /** A small pool on one host, ended after the file. */
  pool(url: string): Pool;
  /** The status of one of the run's steps, as `p`'s server has it. */
  stepStatus(p: Pool, step: string): Promise<string | undefined>;
}

export const lostFailover = (name: string): LostFailover => {
  const schema = `lost_${name}`;
  const procs: CliProcess[] = [];
  const pools: Pool[] = [];
  let pair: ReplicaPair | undefined;
  let dir: string | undefined;
  const must = <A>(a: A | undefined, what: string): A => {
    if (a === undefined) throw new Error(`${what} is set by beforeAll`);
    return a;
  };
  const h: LostFailover = {
    schema,
    runId: `run-lost-${name}`,
    get pair() {
      return must(pair, 'pair');
    },
    get dir() {
      return must(dir, 'dir');
    },
    orbit: (args) => {
      const argv = [CLI_PATH, '--schema', schema, '--pipelines', FIXTURE_PIPELINES, ...args];
      const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: h.pair.url, NO_COLOR: '1' };
      for (const k of Object.keys(env)) if (k.startsWith('ORBIT_')) delete env[k];
      const p = new CliProcess(
        spawn(process.execPath, argv, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
        argv,
        200_000,
      );
      procs.push(p);
      return p;
    },
    pool: (url) => {
      const p = new Pool({ connectionString: url, max: 2 });
      p.on('error', () => undefined);
      pools.push(p);
      return p;
    },
    stepStatus: async (p, step) =>
      (await p.query<{ status: string }>(`SELECT status FROM ${schema}.steps WHERE run_id = $1 AND name = $2`, [h.runId, step]))
        .rows[0]?.status,
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), `orbit-lost-${name}-`));
    pair = await startReplicaPair({ synchronous: false, relay: true, label: `orbit-lost-${name}-test` });
    const d = openDatabase({ url: pair.primaryUrl, schema });
    if (E.isLeft(d)) throw new Error(formatError(d.left));
    try {
      const m = await migrate(d.right);
      if (E.isLeft(m)) throw new Error(formatError(m.left));
    } finally {
      await closeDatabase(d.right);
    }
  });

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.done.catch(() => undefined)));
    for (const p of pools) await p.end().catch(() => undefined);
    await pair?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return h;
};
