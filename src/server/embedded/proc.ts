import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import type { Env } from '../../util/env';

/** The OS account PostgreSQL runs as when we are root (it refuses to run as root). */
export interface RunAs {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** How a child process ended. `output` is stdout and stderr interleaved. */
export interface RunResult {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
  readonly spawnError: string | undefined;
}

export interface RunOptions {
  readonly runAs?: RunAs | undefined;
  readonly cwd: string;
  readonly timeoutMs: number;
  /** The environment the tool inherits (PG*, LC_* and LANG dropped). */
  readonly env: Env;
  /** Own session, so the server pg_ctl launches survives signals sent to our process group. */
  readonly detached?: boolean;
}

/**
 * Environment for PostgreSQL tools: English messages (we show them to users), and no
 * inherited PG* variables, which would silently override the data dir or port we pass.
 */
const childEnv = (parent: Env): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(parent)) {
    if (!k.startsWith('PG') && !k.startsWith('LC_') && k !== 'LANG') env[k] = v;
  }
  env.LC_ALL = 'C';
  return env;
};

/** Runs a command to completion; never rejects (failures are in the result). */
export const run = (cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> =>
  new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
      ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
    });
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (code: number | null, spawnError?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      // Inherited pipes still open in a grandchild would keep this process alive: let go.
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, output, timedOut, spawnError });
    };
    child.on('error', (err) => finish(null, err.message));
    // 'close' comes after all output (under load, 'exit' can precede it). But a grandchild
    // that inherited our pipes (a server launched by pg_ctl) could delay 'close' forever,
    // so after 'exit' give the output a short grace period only.
    child.on('close', (code) => finish(code));
    child.on('exit', (code) => {
      grace = setTimeout(() => finish(code), 2_000);
    });
  });

/** The last non-empty line of a tool's output: usually the actual error. */
export const lastLine = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .pop() ?? '';

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export const pidAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * True when `pid` is a postmaster serving `dataDir`. The postmaster chdirs into its data
 * directory, so /proc/<pid>/cwd identifies it even when the pid was recycled after a crash.
 * Without /proc (macOS) a live pid is taken at its word.
 */
export const isPostmasterOf = async (pid: number, dataDir: string): Promise<boolean> => {
  if (!pidAlive(pid)) return false;
  try {
    const [cwd, dir] = await Promise.all([fs.readlink(`/proc/${pid}/cwd`), fs.realpath(dataDir)]);
    return cwd === dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT on /proc itself: no procfs. EACCES: someone else's process, so not our server.
    return code === 'ENOENT'
      ? !(await fs.stat('/proc/self').then(
          () => true,
          () => false,
        ))
      : false;
  }
};

/**
 * Postmasters still running on a data directory that has been deleted (`rm -rf .orbit`
 * without stopping the server first). They can never be reused, so the fresh cluster's
 * creator shuts them down instead of leaving them running forever. Linux only (empty elsewhere).
 */
export const orphanedPostmasters = async (dataDir: string): Promise<number[]> => {
  const target = `${dataDir} (deleted)`;
  const parents = new Map<number, number>(); // pid -> ppid, for processes whose cwd is the deleted dir
  for (const name of await fs.readdir('/proc').catch((): string[] => [])) {
    if (!/^\d+$/.test(name)) continue;
    if ((await fs.readlink(`/proc/${name}/cwd`).catch(() => '')) !== target) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // Field 4 (ppid) follows "pid (comm) state"; comm may contain spaces, so split after ')'.
    parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  // Backends share the postmaster's cwd; the postmaster is the one whose parent does not.
  return [...parents].filter(([, ppid]) => !parents.has(ppid)).map(([pid]) => pid);
};
