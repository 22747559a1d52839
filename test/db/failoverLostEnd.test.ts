/**
 * An asynchronous failover that loses the end of a run its worker had finished (a throwaway
 * primary and its replica, the WAL held back before the last step's success, never the shared
 * server). On the new primary the run is running again and names the worker its owner, but the
 * worker has nothing left to append: no refused append tells it. When its LISTEN connection comes
 * back it hands the run back (`run.released`) and it is resumed at once, with the default threshold
 * (10 minutes), not after it. The step whose success was lost runs again, under the same key.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { Pool } from 'pg';
import { startReplicaPair, type ReplicaPair } from '../../scripts/chaos/replicaPair';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { migrate } from '../../src/migrations/migrate';
import { CLI_PATH, CliProcess, FIXTURE_PIPELINES, REPO_ROOT } from '../support/cli';
import { waitFor } from '../support/waitFor';

jest.setTimeout(240_000);

const schema = 'lost_end';
const runId = 'run-lost-end';
let pair: ReplicaPair;
let dir: string;
const procs: CliProcess[] = [];
const pools: Pool[] = [];

const orbit = (args: readonly string[]): CliProcess => {
  const argv = [CLI_PATH, '--schema', schema, '--pipelines', FIXTURE_PIPELINES, ...args];
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: pair.url, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('ORBIT_')) delete env[k];
  const p = new CliProcess(
    spawn(process.execPath, argv, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    argv,
    200_000,
  );
  procs.push(p);
  return p;
};

const pool = (url: string): Pool => {
  const p = new Pool({ connectionString: url, max: 2 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
};

const stepStatus = async (p: Pool, step: string): Promise<string | undefined> =>
  (await p.query<{ status: string }>(`SELECT status FROM ${schema}.steps WHERE run_id = $1 AND name = $2`, [runId, step])).rows[0]
    ?.status;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orbit-lost-end-'));
  pair = await startReplicaPair({ synchronous: false, relay: true, label: 'orbit-lost-end-test' });
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
  rmSync(dir, { recursive: true, force: true });
});

it('hands back a run whose end the failover lost, and it is resumed at once', async () => {
  const marker = path.join(dir, 'marker');
  const notified = path.join(dir, 'notify');
  const meta = { marker, holdUntil: { notify: notified } };
  const queued = await orbit(['run', 'data-pipeline', '--queue', '--run-id', runId, '--metadata', JSON.stringify(meta)]).done;
  expect(queued.code).toBe(0);
  const worker = orbit(['worker']);
  const primary = pool(pair.primaryUrl);
  const status = async (p: Pool) =>
    (await p.query<{ status: string }>(`SELECT status FROM ${schema}.runs WHERE id = $1`, [runId])).rows[0]?.status;
  await waitFor(async () => (await stepStatus(primary, 'notify')) === 'running', { what: 'notify to start' });
  // The replica has everything up to notify's start; then it falls behind.
  await pair.caughtUp();
  pair.holdReplication();
  writeFileSync(notified, '');
  await waitFor(async () => (await status(primary)) === 'success', { what: 'the run to end on the old primary' });
  await pair.killPrimary();
  await pair.promote();
  const promoted = pool(pair.replicaUrl);
  await waitFor(async () => (await status(promoted)) === 'success', {
    what: 'the run to succeed on the new primary',
    timeoutMs: 60_000,
  });
  const events = (
    await promoted.query<{ type: string; payload: { reason?: string } }>(
      `SELECT type, payload FROM ${schema}.run_events WHERE run_id = $1 ORDER BY seq`,
      [runId],
    )
  ).rows;
  expect(events.find((e) => e.type === 'run.released')?.payload.reason).toMatch(
    /journal lost transitions this worker had committed/,
  );
  // notify's lost success: executed again, under the same idempotency key.
  const runs = readFileSync(marker, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('notify '));
  expect(runs).toHaveLength(2);
  expect(new Set(runs.map((l) => l.split(' ')[2])).size).toBe(1);
  expect(worker.running).toBe(true);
});
