/**
 * libpq's `connect_timeout`, per host: a host that accepts TCP and never says a word (a stopped
 * postmaster, a blackholed address behind a proxy) is given up after the timeout and the next host
 * of a multi-host URL is tried; alone, it fails with one error naming it and the timeout. Before,
 * the LISTEN connection to such a host waited for ever, and a search past two silent hosts ran
 * into the pool's own 10 s limit.
 */
import net from 'node:net';
import * as E from 'fp-ts/Either';
import { parseConnectionTarget } from '../../src/db/connectionTarget';
import { ConnectTimeout } from '../../src/db/connectTimeout';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, type E2eHarness } from '../support/cli';
import { expectLeft, expectRight, testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';

interface Silent {
  readonly port: number;
  /** Connections it accepted (and never answered). */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never writes a byte. */
const startSilent = async (): Promise<Silent> => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let accepted = 0;
  server.on('connection', () => (accepted += 1));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/**
 * Forwards to the test server; once `silence()`d, connections it accepts after that are held
 * without a word (the ones it already forwards keep working): a remembered host gone silent.
 */
const startRelay = async (host: string, port: number) => {
  const sockets = new Set<net.Socket>();
  let silent = false;
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    c.on('close', () => sockets.delete(c));
    if (silent) return;
    const u = net.connect(port, host);
    sockets.add(u);
    u.on('error', () => undefined);
    u.on('close', () => {
      sockets.delete(u);
      c.destroy();
    });
    c.on('close', () => u.destroy());
    c.pipe(u);
    u.pipe(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    silence: () => (silent = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const server = new URL(testDatabaseUrl());
const auth = server.username !== '' ? `${server.username}${server.password !== '' ? `:${server.password}` : ''}@` : '';
const real = `${server.hostname}:${server.port || '5432'}`;
const url = (hosts: readonly string[], query: string): string =>
  `postgres://${auth}${hosts.join(',')}${server.pathname}?${query}`;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

const open = async (databaseUrl: string): Promise<OrbitClient> => {
  const c = await connect({ databaseUrl, schema: uniqueSchemaName('ct'), migrate: true });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  closers.push(async () => {
    await c.right.db.pool.query(`DROP SCHEMA IF EXISTS ${c.right.db.qs} CASCADE`);
    await c.right.close();
  });
  return c.right;
};

describe('connect_timeout in the URL', () => {
  it('is read per libpq: whole seconds, 1 read as 2, 0 for no limit; 10 s when absent', () => {
    const ms = (u: string) => expectRight(parseConnectionTarget(u, 'DATABASE_URL')).connectTimeoutMs;
    expect(ms('postgres://h/db')).toBe(10_000);
    expect(ms('postgres://h1,h2/db?connect_timeout=3')).toBe(3_000);
    expect(ms('postgres://h/db?connect_timeout=1')).toBe(2_000);
    expect(ms('postgres://h1,h2/db?connect_timeout=0')).toBeUndefined();
    expect(expectLeft(parseConnectionTarget('postgres://h/db?connect_timeout=2.5', 'DATABASE_URL'))).toEqual({
      _tag: 'InvalidInput',
      what: 'DATABASE_URL',
      message: 'connect_timeout "2.5" is not a whole number of seconds',
    });
  });
});

describe('a host that accepts TCP and never answers', () => {
  it('is given up after connect_timeout, listed first four times, and the next host serves queries and LISTEN', async () => {
    const silent = await startSilent();
    closers.push(() => silent.close());
    const s = `127.0.0.1:${silent.port}`;
    const t0 = Date.now();
    const client = await open(url([s, s, s, s, real], 'connect_timeout=2&target_session_attrs=read-write'));
    const r = await client.db.pool.query<{ port: number }>('SELECT inet_server_port() AS port');
    expect(r.rows[0]?.port).toBe(Number(server.port || '5432'));
    expect(silent.accepted()).toBeGreaterThanOrEqual(4);
    // Four timeouts of 2 s and 9 s to spare for a loaded machine (a fixed 5 s per host before: 20 s).
    expect(Date.now() - t0).toBeLessThan(17_000);
    const listen = client.db.newClient({});
    await listen.connect();
    await listen.end();
  });

  it('remembered, then gone silent: the LISTEN connection fails after connect_timeout naming it, and the next one finds the next host', async () => {
    const relay = await startRelay(server.hostname, Number(server.port || '5432'));
    closers.push(() => relay.close());
    const client = await open(url([`127.0.0.1:${relay.port}`, real], 'connect_timeout=2&target_session_attrs=read-write'));
    await client.db.pool.query('SELECT 1');
    relay.silence();
    const t0 = Date.now();
    const first = client.db.newClient({});
    const failed: unknown = await first.connect().then(
      () => 'connected',
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(ConnectTimeout);
    expect((failed as Error).message).toBe(`no answer from 127.0.0.1:${relay.port} within 2 s (connect_timeout)`);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const second = client.db.newClient({});
    await second.connect();
    const r = await second.query<{ port: number }>('SELECT inet_server_port() AS port');
    expect(r.rows[0]?.port).toBe(Number(server.port || '5432'));
    await second.end();
  });

  describe('alone', () => {
    let h: E2eHarness;
    beforeAll(async () => {
      h = await createE2eHarness('ct');
    });
    afterAll(() => h.dispose());

    it('fails connect() with one typed error naming the host and the timeout', async () => {
      const silent = await startSilent();
      closers.push(() => silent.close());
      const t0 = Date.now();
      const c = await connect({ databaseUrl: url([`127.0.0.1:${silent.port}`], 'connect_timeout=2'), migrate: false });
      const failure = expectLeft(c);
      expect(failure).toEqual({
        _tag: 'DatabaseUnavailable',
        message: `no answer from 127.0.0.1:${silent.port} within 2 s (connect_timeout)`,
      });
      expect(Date.now() - t0).toBeLessThan(15_000);
      // The LISTEN connection of a single-host URL too (it had no limit at all).
      const db = expectRight(openDatabase({ url: url([`127.0.0.1:${silent.port}`], 'connect_timeout=2') }));
      closers.push(() => closeDatabase(db));
      const listen = db.newClient({});
      await expect(listen.connect()).rejects.toThrow(`no answer from 127.0.0.1:${silent.port} within 2 s (connect_timeout)`);
    });

    it('the CLI prints one line naming the host and the timeout, and exits non-zero', async () => {
      const silent = await startSilent();
      closers.push(() => silent.close());
      const r = await h.cli(['runs'], { databaseUrl: url([`127.0.0.1:${silent.port}`], 'connect_timeout=2') });
      expect(r.timedOut).toBe(false);
      expect(r.code).not.toBe(0);
      expect(r.errLines).toEqual([
        `Error: Cannot reach the database: no answer from 127.0.0.1:${silent.port} within 2 s (connect_timeout)`,
      ]);
      expect(r.durationMs).toBeLessThan(30_000);
    });
  });
});
