import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { readServedDataDirectory } from '../../queries/readServedDataDirectory';
import { sleep } from '../../util/sleep';
import { isoNow, type Clock } from '../../util/clock';

/** Where everything of one embedded server lives. */
export interface Layout {
  readonly baseDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly stateFile: string;
  readonly lockFile: string;
  readonly socketDir: string;
}

/** Unix socket paths are limited to ~107 bytes; ".s.PGSQL.65535" needs 15 of them. */
const MAX_SOCKET_DIR = 90;

export const layout = (baseDir: string): Layout => {
  const base = path.resolve(baseDir);
  let socketDir = path.join(base, 'run');
  // Long or odd paths (pg_ctl pastes -o into a shell line; -k splits on commas) go to /tmp.
  if (socketDir.length > MAX_SOCKET_DIR || /[^\w./-]/.test(socketDir)) {
    socketDir = path.join(os.tmpdir(), `orbit-pg-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`);
  }
  return {
    baseDir: base,
    dataDir: path.join(base, 'pg'),
    logFile: path.join(base, 'postgres.log'),
    stateFile: path.join(base, 'pg-state.json'),
    lockFile: path.join(base, 'pg.lock'),
    socketDir,
  };
};

/** What survives between processes besides the data dir: the port the server listens on. */
export interface State {
  readonly port: number;
}

export const readState = async (file: string): Promise<State | undefined> => {
  try {
    const v: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const port = (v as Record<string, unknown>).port;
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? { port } : undefined;
  } catch {
    return undefined;
  }
};

/** Write-then-rename, so a concurrent reader never sees half a file. */
export const writeState = async (file: string, state: State, clock: Clock): Promise<void> => {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify({ ...state, updatedAt: isoNow(clock) }, null, 2)}\n`);
  await fs.rename(tmp, file);
};

/** Connection URL of the embedded server (trust auth, so no password). */
export const urlFor = (port: number): string => `postgres://postgres@127.0.0.1:${port}/postgres`;

/**
 * True when a server on `port` answers `SELECT 1` and serves `dataDir`. Checking the data
 * directory keeps us from "reusing" an unrelated PostgreSQL that took over our old port.
 */
export const probe = async (port: number, dataDir: string, timeoutMs = 1_500): Promise<boolean> => {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    ssl: false,
    connectionTimeoutMillis: timeoutMs,
  });
  client.on('error', () => undefined); // a dropped connection must not crash the process
  try {
    await client.connect();
    const dir = await readServedDataDirectory(client);
    if (dir === null) return false;
    const [served, ours] = await Promise.all([fs.realpath(dir).catch(() => dir), fs.realpath(dataDir).catch(() => dataDir)]);
    return served === ours;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** Polls `probe` until it succeeds or `timeoutMs` passes. */
export const waitUntilReady = async (port: number, dataDir: string, timeoutMs: number, clock: Clock): Promise<boolean> => {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    if (await probe(port, dataDir)) return true;
    if (clock.now() > deadline) return false;
    await sleep(200);
  }
};

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
export const isPortFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });

/** A port the OS considers free right now on 127.0.0.1. */
export const pickFreePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });

/** The pid and port recorded in `postmaster.pid` (lines 1 and 4), if the file exists. */
export const readPostmasterPid = async (dataDir: string): Promise<{ pid: number; port: number | undefined } | undefined> => {
  const text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return { pid: Number.isInteger(pid) ? pid : 0, port: Number.isInteger(port) && port > 0 ? port : undefined };
};

export const exists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );
