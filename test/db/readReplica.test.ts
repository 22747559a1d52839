/**
 * Issue 22 item 3: reads from a replica. A throwaway primary and its streaming replica (never the
 * shared server): with `readUrl`, listing runs, reading events, verify and export read the replica,
 * writes go to the primary, and the replay lag is measured; the CLI says how far the replica lags.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { startReplicaPair, type ReplicaPair } from '../../scripts/chaos/replicaPair';
import { auditJournal, definePipeline, listRuns, readReplicaLag, readRunEvents, runPipeline } from '../../src/index';
import { formatError } from '../../src/errors';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';

jest.setTimeout(180_000);

let pair: ReplicaPair;
let client: OrbitClient;
const registry = createRegistry();
const pipeline = definePipeline({ name: 'replica-reads', steps: [{ name: 'a', handler: () => ({ success: true }) }] });

const right = <A>(e: E.Either<import('../../src/errors').OrbitError, A>): A => {
  if (E.isLeft(e)) throw new Error(formatError(e.left));
  return e.right;
};

beforeAll(async () => {
  pair = await startReplicaPair({ synchronous: true, label: 'orbit-read-replica-test' });
  client = right(await connect({ databaseUrl: pair.primaryUrl, readUrl: pair.replicaUrl, registry, migrate: true }));
});

afterAll(async () => {
  await client?.close();
  await pair?.dispose();
});

const port = async (pool: OrbitClient['db']['pool']): Promise<number | undefined> =>
  (await pool.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]?.port;

it('reads on the replica, writes on the primary, and measures the replay lag', async () => {
  expect(await port(client.db.pool)).toBe(pair.primaryPort);
  expect(await port(client.readDb.pool)).toBe(pair.replicaPort);
  const run = right(await runPipeline(pipeline, {}, { client }));
  await pair.caughtUp();
  expect(right(await listRuns({ client })).map((r) => r.runId)).toContain(run.runId);
  expect(right(await readRunEvents(run.runId, { client })).length).toBeGreaterThan(3);
  expect(right(await auditJournal({ client })).problems).toEqual([]);
  const lag = right(await readReplicaLag({ client }));
  expect(lag).toMatchObject({ standby: true, bytesBehind: 0 });
  expect(lag?.lastReplayedAt).not.toBeNull();

  // Replay paused on the replica: the primary goes on (synchronous_commit = on waits for the flush,
  // not the replay); the replica does not see the new run yet, and the lag says so in bytes.
  const replica = new Client({ connectionString: pair.replicaUrl });
  await replica.connect();
  try {
    await replica.query('SELECT pg_wal_replay_pause()');
    const later = right(await runPipeline(pipeline, {}, { client }));
    expect(right(await listRuns({ client })).map((r) => r.runId)).not.toContain(later.runId);
    const behind = right(await readReplicaLag({ client }));
    expect(behind?.bytesBehind).toBeGreaterThan(0);
    await replica.query('SELECT pg_wal_replay_resume()');
    await pair.caughtUp();
    expect(right(await listRuns({ client })).map((r) => r.runId)).toContain(later.runId);
  } finally {
    await replica.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await replica.end();
  }
});

it('orbit runs and orbit export with --read-url read the replica and say how far it lags', async () => {
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(__dirname, '../../dist/cli/main.js'), ...args],
        { env: { ...process.env, DATABASE_URL: pair.primaryUrl, NO_COLOR: '1', ORBIT_READ_URL: undefined } },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
      );
    });
  const runs = await cli(['runs', '--read-url', pair.replicaUrl]);
  expect(runs.code).toBe(0);
  expect(runs.stderr).toMatch(
    new RegExp(
      `^Reading from the replica 127\\.0\\.0\\.1:${pair.replicaPort}: \\d+ bytes of WAL behind the primary; last transaction replayed [\\d.]+s ago$`,
      'm',
    ),
  );
  expect(runs.stdout).toContain('replica-reads');
  const exported = await cli(['export', '--all', '--read-url', pair.replicaUrl]);
  expect(exported.code).toBe(0);
  expect(exported.stdout.trimEnd().split('\n').pop()).toMatch(/^\{"orbitExportManifest":1,/);
});
