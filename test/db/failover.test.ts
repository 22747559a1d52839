/**
 * A two-host URL across a promotion (a throwaway primary and its pg_basebackup replica, never the
 * shared server): the client targets read-write and lands on the primary; after the primary is
 * killed (kill -9) and the replica promoted, the same client — pool, appends and LISTEN — runs on
 * the new primary without a restart.
 */
import * as E from 'fp-ts/Either';
import { startReplicaPair, type ReplicaPair } from '../../scripts/chaos/replicaPair';
import { auditJournal, definePipeline, runPipeline } from '../../src/index';
import { formatError } from '../../src/errors';
import { RunWatcher, type ConnectionEvent } from '../../src/listen/runWatcher';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { waitFor } from '../support/waitFor';

jest.setTimeout(180_000);

let pair: ReplicaPair;
let client: OrbitClient;
let watcher: RunWatcher;
const events: ConnectionEvent[] = [];
const registry = createRegistry();
const pipeline = definePipeline({
  name: 'failover-flow',
  steps: [
    { name: 'a', handler: () => ({ success: true }) },
    { name: 'b', handler: () => ({ success: true }) },
  ],
});

beforeAll(async () => {
  pair = await startReplicaPair({ synchronous: true, label: 'orbit-failover-test' });
  const c = await connect({ databaseUrl: pair.url, registry, migrate: true, retryBudgetMs: 60_000 });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  client = c.right;
  watcher = new RunWatcher(client.db);
  watcher.onConnection((e) => events.push(e));
  await watcher.watchAll(() => undefined);
});

afterAll(async () => {
  await watcher?.close();
  await client?.close();
  await pair?.dispose();
});

const serverPort = async (): Promise<number | undefined> =>
  (await client.db.pool.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]?.port;

it('lands on the primary, and after kill -9 and promotion appends to the new primary without a restart', async () => {
  expect(await serverPort()).toBe(pair.primaryPort);
  const before = await runPipeline(pipeline, {}, { client });
  expect(E.isRight(before) && before.right.status).toBe('success');

  await pair.killPrimary();
  await pair.promote();

  // The same client: its pool's connections broke with the primary and find the promoted replica.
  const after = await runPipeline(pipeline, {}, { client });
  if (E.isLeft(after)) throw new Error(formatError(after.left));
  expect(after.right.status).toBe('success');
  expect(await serverPort()).toBe(pair.replicaPort);
  // LISTEN came back on its own, on the new primary (a standby would refuse LISTEN).
  await waitFor(() => events.some((e) => e.kind === 'restored'), { what: 'LISTEN to be restored' });
  expect(await watcher.backendPid()).not.toBeNull();
  // Both runs are on the new primary, and every chain verifies.
  const audit = await auditJournal({ client });
  if (E.isLeft(audit)) throw new Error(formatError(audit.left));
  expect(audit.right.problems).toEqual([]);
  expect(audit.right.runsChecked).toBe(2);
});
