import { existsSync } from 'fs';
import * as path from 'path';
import * as E from 'fp-ts/Either';
import type { DatabaseUnavailable, InvalidInput } from '../errors';
import { hostList, parseConnectionTarget } from '../db/connectionTarget';
import { EmbeddedServer, ensureEmbeddedServer } from './embeddedServer';
import type { Clock } from '../util/clock';
import type { Env } from '../util/env';

/** The database Orbit will use and where that choice came from. */
export interface ResolvedDatabase {
  url: string;
  source: 'option' | 'env' | 'embedded';
  /** Set when `source` is 'embedded'. */
  embedded?: EmbeddedServer;
}

/**
 * Checks a PostgreSQL URL without connecting: scheme, ports, and for libpq's multi-host form
 * (`postgres://h1:5432,h2:5433/db?target_session_attrs=read-write`) the host list and
 * `target_session_attrs`. Never echoes the URL (it may hold a password).
 */
export const validateDatabaseUrl = (url: string, what: string): E.Either<InvalidInput, void> =>
  E.map(() => undefined)(parseConnectionTarget(url, what));

/** The project root: the nearest directory from `cwd` up that holds a package.json (else `cwd`). */
export function projectRoot(cwd: string): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}

/**
 * Where the embedded server lives: `dataDir` (--data-dir), else `ORBIT_HOME`, else `.orbit` at the
 * project root, so `orbit runs` in a subfolder finds the same server, not a second, empty one.
 */
export function embeddedHome(opts: {
  dataDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd: string;
}): string {
  const given = opts.dataDir !== undefined && opts.dataDir !== '' ? opts.dataDir : opts.env?.ORBIT_HOME;
  if (given !== undefined && given !== '') return path.resolve(opts.cwd, given);
  return path.join(projectRoot(opts.cwd), '.orbit');
}

/**
 * Picks the database: the `databaseUrl` option, else `env.DATABASE_URL`, else the embedded
 * server of `embeddedHome` (started on demand, so Orbit works with zero setup).
 */
export async function resolveDatabase(opts: {
  databaseUrl?: string;
  env: Env;
  /** The clock the embedded server's lock and start-up are timed by. */
  clock: Clock;
  cwd: string;
  /** The embedded server's directory (--data-dir); default ORBIT_HOME, else <project root>/.orbit. */
  dataDir?: string;
}): Promise<E.Either<InvalidInput | DatabaseUnavailable, ResolvedDatabase>> {
  const { env } = opts;
  const given: { url: string; source: 'option' | 'env' } | undefined =
    opts.databaseUrl !== undefined && opts.databaseUrl !== ''
      ? { url: opts.databaseUrl, source: 'option' }
      : env.DATABASE_URL !== undefined && env.DATABASE_URL !== ''
        ? { url: env.DATABASE_URL, source: 'env' }
        : undefined;
  if (given) {
    const parsed = parseConnectionTarget(given.url, given.source === 'option' ? 'database URL' : 'DATABASE_URL');
    return E.isLeft(parsed) ? parsed : E.right({ url: given.url, source: given.source });
  }
  const server = await ensureEmbeddedServer(embeddedHome({ dataDir: opts.dataDir, env, cwd: opts.cwd }), {
    env,
    clock: opts.clock,
  });
  return E.isLeft(server) ? server : E.right({ url: server.right.url, source: 'embedded', embedded: server.right });
}

/** Relative to the working directory when inside it: shorter, and what the user typed. */
const shortPath = (p: string): string => {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

/** `user@host:port/dbname` of a PostgreSQL URL, without the password (undefined if unparsable). */
export function urlLocation(url: string): string | undefined {
  const target = parseConnectionTarget(url, 'url');
  if (E.isLeft(target)) return undefined;
  let u: URL;
  try {
    u = new URL(target.right.urls[0] ?? url);
  } catch {
    return undefined;
  }
  if (target.right.hosts.length > 1) {
    const user = decodeURIComponent(u.username);
    const dbName = decodeURIComponent(u.pathname.replace(/^\//, '')) || user || 'postgres';
    return `${user ? `${user}@` : ''}${hostList(target.right)}/${dbName}`;
  }
  // libpq defaults: a host-less URL uses the local socket (or ?host=), the database defaults to the user.
  const host = u.hostname !== '' ? u.hostname : (u.searchParams.get('host') ?? 'localhost');
  const port = u.port !== '' ? u.port : (u.searchParams.get('port') ?? '5432');
  const user = decodeURIComponent(u.username);
  const dbName = decodeURIComponent(u.pathname.replace(/^\//, '')) || user || 'postgres';
  return `${user ? `${user}@` : ''}${host}:${port}/${dbName}`;
}

/** One human line saying where the database is. Never shows a password. */
export function describeDatabase(db: ResolvedDatabase): string {
  if (db.embedded) {
    const e = db.embedded;
    if (e.reused) return `embedded PostgreSQL at 127.0.0.1:${e.port} (data in ${shortPath(e.dataDir)}, reused)`;
    // Started by this process: it keeps running in the background, so say how to stop it.
    return `started embedded PostgreSQL at 127.0.0.1:${e.port} (data in ${shortPath(e.dataDir)}); it keeps running in the background: stop it with "orbit db stop"`;
  }
  const from = db.source === 'option' ? '--database-url' : 'DATABASE_URL';
  return `PostgreSQL at ${urlLocation(db.url) ?? '(unparsable URL)'} (from ${from})`;
}
