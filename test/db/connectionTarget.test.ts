/** libpq's multi-host URL: parsing (no database) and host selection against the test server. */
import * as E from 'fp-ts/Either';
import { parseConnectionTarget } from '../../src/db/connectionTarget';
import { sessionMatches } from '../../src/db/hostSelector';
import { formatError } from '../../src/errors';
import { connect } from '../../src/runtime/orbitClient';
import { expectLeft, expectRight, testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';

const parse = (url: string) => parseConnectionTarget(url, 'DATABASE_URL');

describe('parseConnectionTarget', () => {
  it('reads the hosts in order, each with its port (5432 when none), and target_session_attrs', () => {
    const t = expectRight(
      parse('postgres://app:s3cret@h1:5432,h2:5433,h3/orbit?target_session_attrs=read-write&sslmode=disable'),
    );
    expect(t.hosts).toEqual([
      { host: 'h1', port: 5432 },
      { host: 'h2', port: 5433 },
      { host: 'h3', port: 5432 },
    ]);
    expect(t.attrs).toBe('read-write');
    // One single-host URL per host, same user, database and other parameters; no target_session_attrs.
    expect(t.urls).toEqual([
      'postgres://app:s3cret@h1:5432/orbit?sslmode=disable',
      'postgres://app:s3cret@h2:5433/orbit?sslmode=disable',
      'postgres://app:s3cret@h3:5432/orbit?sslmode=disable',
    ]);
  });

  it('takes every libpq value of target_session_attrs, and IPv6 hosts', () => {
    for (const attrs of ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby']) {
      expect(expectRight(parse(`postgresql://[::1]:5433,[fe80::2]/db?target_session_attrs=${attrs}`)).attrs).toBe(attrs);
    }
    expect(expectRight(parse('postgresql://[::1]:5433,[fe80::2]/db')).hosts).toEqual([
      { host: '[::1]', port: 5433 },
      { host: '[fe80::2]', port: 5432 },
    ]);
  });

  it('leaves a single-host URL as it was given (any session), and strips only target_session_attrs', () => {
    const plain = 'postgres://postgres@127.0.0.1:5432/test';
    expect(expectRight(parse(plain))).toEqual({
      hosts: [{ host: '127.0.0.1', port: 5432 }],
      attrs: 'any',
      urls: [plain],
      connectTimeoutMs: 10_000,
    });
    const t = expectRight(parse('postgres://u@db:6000/x?target_session_attrs=primary'));
    expect([t.attrs, t.urls]).toEqual(['primary', ['postgres://u@db:6000/x']]);
  });

  it.each([
    ['postgres://h1:5432,h2:99999/db', 'port "99999" is not a port number (1 to 65535)'],
    ['postgres://h1:5432,,h2/db', 'an empty host in the host list (h1:5432,h2:5433)'],
    ['postgres://h1:5432,h2:x/db', 'port "x" is not a port number (1 to 65535)'],
    [
      'postgres://h1,h2/db?target_session_attrs=master',
      'target_session_attrs "master" is not one of any, read-write, read-only, primary, standby, prefer-standby',
    ],
    [
      'postgres://h1/db?target_session_attrs=',
      'target_session_attrs "" is not one of any, read-write, read-only, primary, standby, prefer-standby',
    ],
    ['mysql://h1,h2/db', 'unsupported scheme "mysql:": expected postgres:// or postgresql://'],
    ['not a url, h2', 'not a URL: expected postgres://user@host:port/dbname'],
  ])('refuses %s with one typed error, never echoing the URL', (url, message) => {
    expect(expectLeft(parse(url))).toEqual({ _tag: 'InvalidInput', what: 'DATABASE_URL', message });
  });

  it('matches sessions as libpq does', () => {
    const primary = { inRecovery: false, readOnly: false };
    const standby = { inRecovery: true, readOnly: true };
    const readOnlyPrimary = { inRecovery: false, readOnly: true };
    const row = (s: typeof primary, last = true) =>
      (['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const).map((a) =>
        sessionMatches(a, s, last),
      );
    expect(row(primary)).toEqual([true, true, false, true, false, true]);
    expect(row(standby)).toEqual([true, false, true, false, true, true]);
    expect(row(readOnlyPrimary)).toEqual([true, false, true, true, false, true]);
    // prefer-standby's first pass takes only a standby.
    expect(row(primary, false)[5]).toBe(false);
  });
});

describe('host selection', () => {
  const server = new URL(testDatabaseUrl());
  const twoHosts = (attrs: string): string =>
    `postgres://${server.username}@127.0.0.1:1,${server.hostname}:${server.port || '5432'}${server.pathname}?target_session_attrs=${attrs}`;

  it('skips a host that does not answer and lands on the one that gives the session asked for', async () => {
    for (const attrs of ['read-write', 'prefer-standby']) {
      const c = await connect({ databaseUrl: twoHosts(attrs), schema: uniqueSchemaName('mh'), migrate: true });
      if (E.isLeft(c)) throw new Error(`${attrs}: ${formatError(c.left)}`);
      try {
        expect([attrs, c.right.db.selector?.target.hosts.length]).toEqual([attrs, 2]);
        const r = await c.right.db.pool.query<{ port: number }>('SELECT inet_server_port() AS port');
        expect(r.rows[0]?.port).toBe(Number(server.port || '5432'));
        await c.right.db.pool.query(`DROP SCHEMA ${c.right.db.qs} CASCADE`);
      } finally {
        await c.right.close();
      }
    }
  });

  it('fails to connect, naming each host and what it was, when none gives the session asked for', async () => {
    const c = await connect({ databaseUrl: twoHosts('standby'), schema: uniqueSchemaName('mh'), migrate: false });
    const failure = expectLeft(c);
    expect(failure._tag).toBe('DatabaseUnavailable');
    expect(formatError(failure)).toMatch(
      /no host of 127\.0\.0\.1:1,.* gives a standby session \(127\.0\.0\.1:1: .*; .*: read-write\)/,
    );
  });
});
