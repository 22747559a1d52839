/**
 * libpq's multi-host URL, `postgres://user@h1:5432,h2:5433/db?target_session_attrs=read-write`,
 * read into the hosts to try in order and the kind of session to keep. `pg` takes one host per
 * connection, so each host gets a single-host URL of its own (the same user, database and
 * parameters); src/db/hostSelector.ts does the trying.
 */
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { OrbitErrors, type InvalidInput } from '../errors';

/** libpq's `target_session_attrs` (PostgreSQL 14's full set). */
export const TargetSessionAttrs = t.keyof({
  any: null,
  'read-write': null,
  'read-only': null,
  primary: null,
  standby: null,
  'prefer-standby': null,
});
export type TargetSessionAttrs = t.TypeOf<typeof TargetSessionAttrs>;

export interface HostPort {
  /** As written in the URL (an IPv6 address keeps its brackets). */
  readonly host: string;
  readonly port: number;
}

export interface ConnectionTarget {
  /** In the order the URL lists them: tried in this order. */
  readonly hosts: readonly HostPort[];
  readonly attrs: TargetSessionAttrs;
  /** A single-host URL for host `i`, without `target_session_attrs` (pg would ignore it silently). */
  readonly urls: readonly string[];
  /**
   * How long (ms) one host may take to give a session (TCP, startup, authentication and the
   * `target_session_attrs` check): libpq's `connect_timeout`, per host. Undefined: no limit
   * (`connect_timeout=0`, as libpq).
   */
  readonly connectTimeoutMs: number | undefined;
}

const DEFAULT_PORT = 5432;

/**
 * Without `connect_timeout` libpq waits for ever; a host that accepts TCP and never answers (a
 * stopped postmaster, a half-dead load balancer) then hangs every connection. Ten seconds is well
 * beyond a healthy connect on a loaded server and short enough to move on to the next host.
 */
export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/** libpq's `connect_timeout`: whole seconds, 0 or less for no limit, 1 read as 2 (libpq's minimum). */
const connectTimeoutOf = (query: string, what: string): E.Either<InvalidInput, number | undefined> => {
  const given = new URLSearchParams(query).get('connect_timeout');
  if (given === null) return E.right(DEFAULT_CONNECT_TIMEOUT_S * 1000);
  if (!/^\s*-?\d+\s*$/.test(given)) {
    return E.left(OrbitErrors.invalidInput(what, `connect_timeout ${JSON.stringify(given)} is not a whole number of seconds`));
  }
  const s = Number(given);
  return E.right(s <= 0 ? undefined : Math.max(2, s) * 1000);
};

/** The query string of `rest` (path, query, fragment). */
const queryOf = (rest: string): string => {
  const q = rest.indexOf('?');
  if (q < 0) return '';
  const hash = rest.indexOf('#', q);
  return rest.slice(q + 1, hash < 0 ? undefined : hash);
};

/** The checks a single-host URL gets before anything connects: scheme and port. */
const parseSingle = (url: string, what: string): E.Either<InvalidInput, URL> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return E.left(OrbitErrors.invalidInput(what, `not a URL: expected postgres://user@host:port/dbname`));
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return E.left(
      OrbitErrors.invalidInput(what, `unsupported scheme "${parsed.protocol}": expected postgres:// or postgresql://`),
    );
  }
  // `pg` turns a non-numeric port into NaN and then waits out its connect timeout in silence.
  const port = parsed.searchParams.get('port') ?? (parsed.port !== '' ? parsed.port : undefined);
  if (port !== undefined && !isPort(port)) {
    return E.left(OrbitErrors.invalidInput(what, `port ${JSON.stringify(port)} is not a port number (1 to 65535)`));
  }
  return E.right(parsed);
};

const isPort = (s: string): boolean => /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;

/** `rest` (path, query, fragment) without `target_session_attrs`, and its value. */
const takeAttrs = (rest: string, what: string): E.Either<InvalidInput, { rest: string; attrs: TargetSessionAttrs }> => {
  const q = rest.indexOf('?');
  if (q < 0) return E.right({ rest, attrs: 'any' });
  const hash = rest.indexOf('#', q);
  const query = rest.slice(q + 1, hash < 0 ? undefined : hash);
  const params = new URLSearchParams(query);
  const given = params.get('target_session_attrs');
  if (given === null) return E.right({ rest, attrs: 'any' });
  const attrs = TargetSessionAttrs.decode(given);
  if (E.isLeft(attrs)) {
    const allowed = Object.keys(TargetSessionAttrs.keys).join(', ');
    return E.left(OrbitErrors.invalidInput(what, `target_session_attrs "${given}" is not one of ${allowed}`));
  }
  params.delete('target_session_attrs');
  const left = params.toString();
  return E.right({
    rest: rest.slice(0, q) + (left !== '' ? `?${left}` : '') + (hash < 0 ? '' : rest.slice(hash)),
    attrs: attrs.right,
  });
};

/** One `host[:port]` of the list (`[::1]:5433` for IPv6). */
const hostOf = (entry: string, what: string): E.Either<InvalidInput, HostPort> => {
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(.*))?$/.exec(entry);
  if (m === null)
    return E.left(OrbitErrors.invalidInput(what, `host ${JSON.stringify(entry)} in the host list is not host[:port]`));
  const port = m[2];
  if (port !== undefined && !isPort(port)) {
    return E.left(OrbitErrors.invalidInput(what, `port ${JSON.stringify(port)} is not a port number (1 to 65535)`));
  }
  return E.right({ host: m[1] ?? entry, port: port === undefined ? DEFAULT_PORT : Number(port) });
};

/**
 * Reads a PostgreSQL URL with one or more hosts. Never echoes the URL (it may hold a password).
 * A single-host URL without `target_session_attrs` comes back as it was given.
 */
export const parseConnectionTarget = (url: string, what: string): E.Either<InvalidInput, ConnectionTarget> => {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)\/\/([^/?#]*)(.*)$/s.exec(url);
  const authority = m?.[2] ?? '';
  if (m === null || !authority.includes(',')) {
    const single = parseSingle(url, what);
    if (E.isLeft(single)) return single;
    const rest = m?.[3] ?? '';
    const taken = takeAttrs(rest, what);
    if (E.isLeft(taken)) return taken;
    const timeout = connectTimeoutOf(queryOf(rest), what);
    if (E.isLeft(timeout)) return timeout;
    const u = single.right;
    const port = u.port !== '' ? Number(u.port) : DEFAULT_PORT;
    const plain = taken.right.rest === rest ? url : `${m?.[1] ?? ''}//${authority}${taken.right.rest}`;
    return E.right({
      hosts: [{ host: u.hostname, port }],
      attrs: taken.right.attrs,
      urls: [plain],
      connectTimeoutMs: timeout.right,
    });
  }
  const [, scheme = '', , rest = ''] = m;
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at + 1);
  const taken = takeAttrs(rest, what);
  if (E.isLeft(taken)) return taken;
  const timeout = connectTimeoutOf(queryOf(rest), what);
  if (E.isLeft(timeout)) return timeout;
  const hosts: HostPort[] = [];
  const urls: string[] = [];
  for (const entry of authority.slice(at + 1).split(',')) {
    if (entry === '') return E.left(OrbitErrors.invalidInput(what, 'an empty host in the host list (h1:5432,h2:5433)'));
    const h = hostOf(entry, what);
    if (E.isLeft(h)) return h;
    const single = `${scheme}//${userinfo}${h.right.host}:${h.right.port}${taken.right.rest}`;
    const checked = parseSingle(single, what);
    if (E.isLeft(checked)) return checked;
    hosts.push(h.right);
    urls.push(single);
  }
  return E.right({ hosts, attrs: taken.right.attrs, urls, connectTimeoutMs: timeout.right });
};

/** `h1:5432,h2:5433`: for messages. */
export const hostList = (target: ConnectionTarget): string => target.hosts.map((h) => `${h.host}:${h.port}`).join(',');
