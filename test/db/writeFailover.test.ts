/**
 * The write paths across a lost host of a multi-host URL: the first host is a TCP relay to the test
 * server that is shut down (its port then refuses, as a killed primary's does), the second host is
 * the server itself. `enqueueRun` and `appendEvents` right after the loss land on the second host
 * within the retry budget, never returning DatabaseUnavailable: whether the pool's connections broke
 * with the host (the selector is told) or had already been closed as idle, so that the selector
 * still remembers the dead host and the first connection is refused (what R10 saw once after a
 * promotion, as `connect ECONNREFUSED`).
 */
import net from 'node:net';
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { appendEvents } from '../../src/journal/appendEvents';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { sleep } from '../../src/util/sleep';
import { testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

interface Relay {
  readonly port: number;
  /** Connections it forwarded. */
  readonly accepted: () => number;
  /** Stops listening (new connections are refused) and cuts every forwarded connection. */
  close(): Promise<void>;
}

const startRelay = async (host: string, port: number): Promise<Relay> => {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((c) => {
    accepted += 1;
    const u = net.connect(port, host);
    for (const s of [c, u]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        c.destroy();
        u.destroy();
      });
    }
    c.pipe(u);
    u.pipe(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const pipeline = definePipeline({ name: 'write-failover', steps: [{ name: 'a', handler: () => ({ success: true }) }] });
const registry = createRegistry();
registry.registerPipeline(pipeline);
const schema = uniqueSchemaName('wfail');
const clients: OrbitClient[] = [];
const relays: Relay[] = [];

/** A client whose URL names the relay first and the test server second. */
const twoHostClient = async (): Promise<{ client: OrbitClient; relay: Relay }> => {
  const direct = new URL(testDatabaseUrl());
  const relay = await startRelay(direct.hostname, Number(direct.port || 5432));
  relays.push(relay);
  const auth = `${direct.username}${direct.password !== '' ? `:${direct.password}` : ''}@`;
  const url = `postgres://${auth}127.0.0.1:${relay.port},${direct.host}${direct.pathname}?target_session_attrs=read-write`;
  const c = await connect({ databaseUrl: url, schema, registry, migrate: true, retryBudgetMs: 20_000 });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  clients.push(c.right);
  return { client: c.right, relay };
};

afterAll(async () => {
  const c = clients[0];
  await c?.db.pool.query(`DROP SCHEMA IF EXISTS ${c.db.qs} CASCADE`).catch(() => undefined);
  for (const x of clients) await x.close();
  for (const r of relays) await r.close().catch(() => undefined);
});

const enqueue = async (client: OrbitClient): Promise<string> => {
  const q = await enqueueRun(pipeline.name, {}, { client });
  if (E.isLeft(q)) throw new Error(`enqueueRun: ${formatError(q.left)}`);
  return q.right.runId;
};

/** After the first host is gone: a new run queued, and an event appended to one queued before. */
const writesGoOn = async (client: OrbitClient, before: string): Promise<void> => {
  await enqueue(client);
  const cancel = await appendEvents(client.db, before, 1, [{ type: 'run.cancelled', payload: { reason: 'test', by: 'test' } }]);
  if (E.isLeft(cancel)) throw new Error(`appendEvents: ${formatError(cancel.left)}`);
  expect(cancel.right.lastSeq).toBe(2);
};

it('enqueue and append go on when the host in use dies under the pool’s connections', async () => {
  const { client, relay } = await twoHostClient();
  const before = await enqueue(client);
  expect(relay.accepted()).toBeGreaterThan(0);
  expect(client.db.pool.idleCount).toBeGreaterThan(0);
  await relay.close();
  await writesGoOn(client, before);
});

it('enqueue and append go on when the host in use dies after the pool closed its idle connections', async () => {
  const { client, relay } = await twoHostClient();
  const before = await enqueue(client);
  // The pool closes idle connections after 5 s without an error: the selector still remembers the relay.
  await waitFor(async () => (await sleep(200), client.db.pool.totalCount === 0), {
    what: 'the pool to close its idle connections',
  });
  await relay.close();
  await writesGoOn(client, before);
});
