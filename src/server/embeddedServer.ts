import { promises as fs } from 'fs';
import * as path from 'path';
import * as E from 'fp-ts/Either';
import { OrbitErrors, type DatabaseUnavailable } from '../errors';
import { Binaries, locateBinaries } from './embedded/binaries';
import {
  Layout,
  exists,
  isPortFree,
  layout,
  pickFreePort,
  probe,
  readPostmasterPid,
  readState,
  urlFor,
  waitUntilReady,
  writeState,
} from './embedded/cluster';
import { acquireLock } from './embedded/lock';
import { RunAs, isPostmasterOf, lastLine, orphanedPostmasters, run } from './embedded/proc';
import { homeToStart, knownHome, reachableBinaries } from './embedded/sharedHome';
import { chownTo, resolveRunAs, unreachableAncestor } from './embedded/user';
import { sleep } from '../util/sleep';
import { makeDirectory } from '../util/makeDirectory';
import { isoNow } from '../util/clock';
import type { Host } from './embedded/host';

export type { Host } from './embedded/host';

/** A running private PostgreSQL owned by one base directory (e.g. `.orbit`). */
export interface EmbeddedServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, no password). */
  url: string;
  /** Absolute path of the cluster's data directory (`baseDir/pg`). */
  dataDir: string;
  port: number;
  /** True when the server was already running (started by this or an earlier process). */
  reused: boolean;
}

/** Longer than a holder's initdb plus start, so waiters do not give up on a healthy holder. */
const LOCK_WAIT_MS = 180_000;
const START_TIMEOUT_S = 60;
const START_ATTEMPTS = 3;

const unavailable = <A>(message: string): E.Either<DatabaseUnavailable, A> => E.left(OrbitErrors.databaseUnavailable(message));
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const serverAt = (l: Layout, port: number, reused: boolean): EmbeddedServer => ({
  url: urlFor(port),
  dataDir: l.dataDir,
  port,
  reused,
});

/** The last FATAL/PANIC/ERROR line of the server log: pg_ctl itself only says "see the log". */
const logReason = async (logFile: string): Promise<string | undefined> => {
  const text = await fs.readFile(logFile, 'utf8').catch(() => '');
  const lines = text.slice(-8_000).split('\n');
  const hit = lines.reverse().find((line) => /\b(FATAL|PANIC|ERROR):/.test(line));
  return hit?.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, '').trim();
};

/** Explains the usual root-only failure: the server's account cannot reach a path. */
const reachHint = async (paths: readonly string[], runAs: RunAs | undefined): Promise<string> => {
  for (const p of paths) {
    const dir = await unreachableAncestor(p, runAs);
    // One command that fixes it, ready to paste (o+x lets it pass through, not list or read).
    if (dir && runAs)
      return `; user ${runAs.name} cannot enter ${dir}; fix: chmod o+x ${dir} (or set DATABASE_URL, or ORBIT_HOME)`;
  }
  return '';
};

/** First run only: initdb (superuser `postgres` trusted, other roles by password) into `l.dataDir`. */
const prepareDataDir = async (
  l: Layout,
  bins: Binaries,
  runAs: RunAs | undefined,
  host: Host,
): Promise<E.Either<DatabaseUnavailable, void>> => {
  if (await exists(path.join(l.dataDir, 'PG_VERSION'))) {
    // postgres refuses a data dir owned by another account (e.g. created before we ran as root).
    if (runAs && (await fs.stat(l.dataDir)).uid !== runAs.uid) await chownTo(l.dataDir, runAs, true);
    return E.right(undefined);
  }
  if (await exists(l.dataDir)) {
    if ((await fs.readdir(l.dataDir)).length > 0) {
      return unavailable(`${l.dataDir} exists but is not a PostgreSQL data directory; move it away`);
    }
    await fs.rmdir(l.dataDir);
  }
  // A server whose data dir was deleted under it is useless; SIGINT is its fast shutdown.
  for (const pid of await orphanedPostmasters(path.join(await fs.realpath(l.baseDir), 'pg'))) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
  // initdb into a scratch dir, then rename: a crash mid-initdb never leaves half a cluster at dataDir.
  const scratch = `${l.dataDir}.init`;
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.mkdir(scratch, { mode: 0o700 });
  await chownTo(scratch, runAs);
  const args = ['-D', scratch, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];
  const res = await run(bins.initdb, args, { runAs, cwd: l.baseDir, env: host.env, timeoutMs: 120_000 });
  await fs.appendFile(l.logFile, `--- initdb ${isoNow(host.clock)}\n${res.output}\n`);
  if (res.code !== 0) {
    const why = res.timedOut ? 'timed out after 120 s' : (res.spawnError ?? lastLine(res.output));
    const hint = await reachHint([scratch, bins.initdb], runAs);
    return unavailable(`initdb failed: ${why}${hint} (log: ${l.logFile})`);
  }
  // The superuser needs no password (it is a private, loopback-only server); every other role
  // does, so a wrong password is a real authentication failure here, as on a production server.
  const hba = path.join(scratch, 'pg_hba.conf');
  await fs.writeFile(
    hba,
    [
      'local all all trust',
      'host all postgres 127.0.0.1/32 trust',
      'host all postgres ::1/128 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      'host all all ::1/128 scram-sha-256',
      '',
    ].join('\n'),
  );
  await chownTo(hba, runAs);
  await fs.rename(scratch, l.dataDir);
  return E.right(undefined);
};

/** Starts the server detached (it outlives us) on `preferred` if still free, else a new port. */
const startServer = async (
  l: Layout,
  bins: Binaries,
  runAs: RunAs | undefined,
  preferred: number | undefined,
  host: Host,
): Promise<E.Either<DatabaseUnavailable, EmbeddedServer>> => {
  await makeDirectory(l.socketDir);
  await chownTo(l.socketDir, runAs);
  // The server's account appends to the log through pg_ctl's shell.
  await fs.appendFile(l.logFile, '');
  await chownTo(l.logFile, runAs);
  let failure = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = preferred !== undefined && (await isPortFree(preferred)) ? preferred : await pickFreePort();
    await writeState(l.stateFile, { port }, host.clock);
    // pg_ctl pastes -o into a shell command line; layout() keeps socketDir free of quotes.
    const options = `-p ${port} -h 127.0.0.1 -k '${l.socketDir}'`;
    const res = await run(
      bins.pgCtl,
      ['start', '-D', l.dataDir, '-l', l.logFile, '-w', '-t', String(START_TIMEOUT_S), '-o', options],
      { runAs, cwd: l.baseDir, env: host.env, timeoutMs: (START_TIMEOUT_S + 30) * 1000, detached: true },
    );
    if (res.code === 0) {
      if (await waitUntilReady(port, l.dataDir, 15_000, host.clock)) return E.right(serverAt(l, port, false));
      return unavailable(`embedded PostgreSQL started on port ${port} but does not answer (log: ${l.logFile})`);
    }
    const why = res.timedOut ? 'pg_ctl timed out' : (res.spawnError ?? lastLine(res.output));
    failure = (await logReason(l.logFile)) ?? why;
    // Only retry a server that died (port grabbed meanwhile, or backends of a killed server
    // still holding shared memory); one still starting up must not get a twin.
    const pm = await readPostmasterPid(l.dataDir);
    if (pm && (await isPostmasterOf(pm.pid, l.dataDir))) break;
    if (attempt < START_ATTEMPTS) await sleep(1_000 * attempt);
  }
  const hint = await reachHint([l.dataDir, bins.postgres], runAs);
  return unavailable(`could not start embedded PostgreSQL: ${failure}${hint} (log: ${l.logFile})`);
};

/** The part of ensureEmbeddedServer that runs while holding the lock. */
const ensureLocked = async (l: Layout, bins: Binaries, host: Host): Promise<E.Either<DatabaseUnavailable, EmbeddedServer>> => {
  // The previous lock holder has probably just started it.
  const state = await readState(l.stateFile);
  if (state && (await probe(state.port, l.dataDir))) return E.right(serverAt(l, state.port, true));
  const runAs = await resolveRunAs(l.baseDir, host.env);
  if (E.isLeft(runAs)) return runAs;
  if (runAs.right) {
    // The server's account must pass through baseDir (ours; mkdtemp makes 0700 dirs).
    const mode = (await fs.stat(l.baseDir)).mode & 0o7777;
    if ((mode & 0o011) !== 0o011) await fs.chmod(l.baseDir, mode | 0o011);
  }
  // Root in a home the server's account cannot enter: a copy it can run, in the shared cache.
  bins = await reachableBinaries(bins, runAs.right);
  const prepared = await prepareDataDir(l, bins, runAs.right, host);
  if (E.isLeft(prepared)) return prepared;
  const pm = await readPostmasterPid(l.dataDir);
  if (pm && (await isPostmasterOf(pm.pid, l.dataDir))) {
    // Our server is alive but did not answer: still starting / recovering, or on a port the
    // state file does not know. Wait for it rather than start a second one.
    const port = pm.port ?? state?.port;
    if (port !== undefined && (await waitUntilReady(port, l.dataDir, START_TIMEOUT_S * 1000, host.clock))) {
      await writeState(l.stateFile, { port }, host.clock);
      return E.right(serverAt(l, port, true));
    }
    return unavailable(
      `embedded PostgreSQL (pid ${pm.pid}) runs on ${l.dataDir} but does not accept connections (log: ${l.logFile})`,
    );
  }
  // Left by a crashed server. postgres removes such files itself unless the pid has been
  // recycled by a process of its own user, in which case it would refuse to start.
  if (pm) await fs.rm(path.join(l.dataDir, 'postmaster.pid'), { force: true });
  return startServer(l, bins, runAs.right, state?.port, host);
};

/**
 * Returns a running private PostgreSQL 18 kept under `baseDir` (data in `baseDir/pg`, log in
 * `baseDir/postgres.log`), starting it (and creating it, the first time) when needed. The
 * server is detached and keeps running after this process exits, so later calls, from any
 * process, reuse it. Safe to call from several processes at once.
 */
export async function ensureEmbeddedServer(baseDir: string, host: Host): Promise<E.Either<DatabaseUnavailable, EmbeddedServer>> {
  // Fast path without the lock: the usual case is a server that is already up.
  const known = layout(await knownHome(baseDir));
  const running = await readState(known.stateFile);
  if (running && (await probe(running.port, known.dataDir))) return E.right(serverAt(known, running.port, true));
  // A data directory that cannot exist (a path through a file, say) is an error, not a reason to
  // fall back to root's shared home: the user named this directory.
  try {
    await makeDirectory(baseDir);
  } catch (err) {
    return unavailable(`cannot create ${baseDir} for the embedded PostgreSQL: ${errText(err)}`);
  }
  const home = await homeToStart(baseDir, host.env);
  if (E.isLeft(home)) return home;
  const l = layout(home.right);
  try {
    await makeDirectory(l.baseDir);
  } catch (err) {
    return unavailable(`cannot create ${l.baseDir} for the embedded PostgreSQL: ${errText(err)}`);
  }
  const bins = locateBinaries();
  if (E.isLeft(bins)) return bins;
  const lock = await acquireLock(l.lockFile, LOCK_WAIT_MS, host.clock);
  if (E.isLeft(lock)) return lock;
  try {
    return await ensureLocked(l, bins.right, host);
  } catch (err) {
    // Unforeseen I/O failures (disk full, permissions) still mean "no database", not a crash.
    return unavailable(`embedded PostgreSQL in ${l.baseDir}: ${errText(err)} (log: ${l.logFile})`);
  } finally {
    await lock.right();
  }
}

/**
 * Stops the embedded server of `baseDir` (`pg_ctl stop -m fast`). Right(true) if one was
 * running, Right(false) if not.
 */
export async function stopEmbeddedServer(baseDir: string, host: Host): Promise<E.Either<DatabaseUnavailable, boolean>> {
  const l = layout(await knownHome(baseDir));
  const pm = await readPostmasterPid(l.dataDir);
  if (!pm || !(await isPostmasterOf(pm.pid, l.dataDir))) return E.right(false);
  const bins = locateBinaries();
  if (E.isLeft(bins)) return bins;
  const lock = await acquireLock(l.lockFile, LOCK_WAIT_MS, host.clock);
  if (E.isLeft(lock)) return lock;
  try {
    const runAs = await resolveRunAs(l.baseDir, host.env);
    if (E.isLeft(runAs)) return runAs;
    const args = ['stop', '-D', l.dataDir, '-m', 'fast', '-w', '-t', String(START_TIMEOUT_S)];
    const pgCtl = (await reachableBinaries(bins.right, runAs.right)).pgCtl;
    const res = await run(pgCtl, args, { runAs: runAs.right, cwd: l.baseDir, env: host.env, timeoutMs: 90_000 });
    if (res.code === 0) return E.right(true);
    // It may have exited on its own since we looked.
    if (!(await isPostmasterOf(pm.pid, l.dataDir))) return E.right(false);
    const why = res.timedOut ? 'timed out' : (res.spawnError ?? lastLine(res.output));
    return unavailable(`could not stop embedded PostgreSQL: ${why} (log: ${l.logFile})`);
  } catch (err) {
    return unavailable(`could not stop embedded PostgreSQL in ${l.baseDir}: ${errText(err)}`);
  } finally {
    await lock.right();
  }
}

/** What `orbit db status` reports about the embedded server of a base directory. */
export interface EmbeddedStatus {
  readonly baseDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** False until the first start creates the cluster. */
  readonly initialized: boolean;
  /** The cluster's major version (PG_VERSION), when initialized. */
  readonly version: string | null;
  readonly running: boolean;
  readonly pid: number | null;
  readonly port: number | null;
  /** Set when running: a URL to paste into psql or DATABASE_URL. */
  readonly url: string | null;
  /** Bytes under the data directory (null when it cannot be read). */
  readonly sizeBytes: number | null;
}

const sizeOf = async (dir: string): Promise<number> => {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOf(p);
    else if (entry.isFile()) total += (await fs.stat(p)).size;
  }
  return total;
};

/** The embedded server's state, read without starting or changing anything. */
export async function embeddedStatus(baseDir: string): Promise<EmbeddedStatus> {
  const l = layout(await knownHome(baseDir));
  const version = await fs.readFile(path.join(l.dataDir, 'PG_VERSION'), 'utf8').then(
    (v) => v.trim(),
    () => null,
  );
  const pm = await readPostmasterPid(l.dataDir);
  const running = pm !== undefined && (await isPostmasterOf(pm.pid, l.dataDir));
  const port = running ? (pm?.port ?? (await readState(l.stateFile))?.port ?? null) : null;
  return {
    baseDir: l.baseDir,
    dataDir: l.dataDir,
    logFile: l.logFile,
    initialized: version !== null,
    version,
    running,
    pid: running ? (pm?.pid ?? null) : null,
    port,
    url: port !== null ? urlFor(port) : null,
    sizeBytes: version !== null ? await sizeOf(l.dataDir).catch(() => null) : null,
  };
}
