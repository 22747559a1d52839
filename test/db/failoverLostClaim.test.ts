/**
 * An asynchronous failover that loses a queued run's claim while its worker executes it (a
 * throwaway primary and its replica, the WAL held back before the claim, never the shared server).
 * On the new primary the run is queued again, nobody's; the worker's next append is refused. It
 * claims the run again at once (it still has it in its lease, so no other worker could take it
 * and no NOTIFY would tell one) instead of waiting out a failed execution's backoff.
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

const schema = 'lost_claim';
const runId = 'run-lost-claim';
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
  dir = mkdtempSync(path.join(os.tmpdir(), 'orbit-lost-claim-'));
  pair = await startReplicaPair({ synchronous: false, relay: true, label: 'orbit-lost-claim-test' });
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

it('claims again at once a queued run whose claim the failover lost', async () => {
  const marker = path.join(dir, 'marker');
  const fetched = path.join(dir, 'fetch');
  const meta = { marker, holdUntil: { 'fetch-data': fetched } };
  const queued = await orbit(['run', 'data-pipeline', '--queue', '--run-id', runId, '--metadata', JSON.stringify(meta)]).done;
  expect(queued.code).toBe(0);
  const primary = pool(pair.primaryUrl);
  // The replica has the queued run; nothing after it.
  await pair.caughtUp();
  pair.holdReplication();
  const worker = orbit(['worker', '-v']);
  await waitFor(async () => (await stepStatus(primary, 'fetch-data')) === 'running', { what: 'fetch-data to start' });
  await pair.killPrimary();
  await pair.promote();
  const promoted = pool(pair.replicaUrl);
  const status = async () =>
    (await promoted.query<{ status: string }>(`SELECT status FROM ${schema}.runs WHERE id = $1`, [runId])).rows[0]?.status;
  expect(await status()).toBe('pending');
  // fetch-data ends; its append meets a journal where the run was never claimed.
  writeFileSync(fetched, '');
  await waitFor(async () => (await status()) === 'success', { what: 'the run to succeed on the new primary', timeoutMs: 60_000 });
  const claims = (
    await promoted.query<{ payload: { worker: string } }>(
      `SELECT payload FROM ${schema}.run_events WHERE run_id = $1 AND type = 'run.claimed' ORDER BY seq`,
      [runId],
    )
  ).rows;
  expect(claims).toHaveLength(1);
  // fetch-data's lost start and success: executed again, under the same idempotency key.
  const runs = readFileSync(marker, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('fetch-data '));
  expect(runs).toHaveLength(2);
  expect(new Set(runs.map((l) => l.split(' ')[2])).size).toBe(1);
  expect(worker.running).toBe(true);
  // Not reported as a takeover (nobody took it) nor counted as a failed execution.
  const said = `${worker.stdout}${worker.stderr}`;
  expect(said).not.toContain(`Run ${runId} error`);
});
