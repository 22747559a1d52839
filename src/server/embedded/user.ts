import { promises as fs } from 'fs';
import * as path from 'path';
import * as E from 'fp-ts/Either';
import { OrbitErrors, type DatabaseUnavailable } from '../../errors';
import type { Env } from '../../util/env';
import { RunAs, run } from './proc';

const USER = 'postgres';

const lookup = async (cwd: string, env: Env): Promise<RunAs | undefined> => {
  const [u, g] = await Promise.all([
    run('id', ['-u', USER], { cwd, env, timeoutMs: 10_000 }),
    run('id', ['-g', USER], { cwd, env, timeoutMs: 10_000 }),
  ]);
  const uid = Number(u.output.trim());
  const gid = Number(g.output.trim());
  // uid 0 would mean root again (or empty output): never accept it.
  if (u.code !== 0 || g.code !== 0 || !/^\d+$/.test(u.output.trim()) || !/^\d+$/.test(g.output.trim()) || uid === 0) {
    return undefined;
  }
  return { name: USER, uid, gid };
};

/**
 * Who PostgreSQL should run as: `undefined` (ourselves) unless we are root, which initdb and
 * postgres refuse. As root we use the `postgres` system account, creating it when missing
 * (CI machines and containers often have none).
 */
export const resolveRunAs = async (cwd: string, env: Env): Promise<E.Either<DatabaseUnavailable, RunAs | undefined>> => {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return E.right(undefined);
  const existing = await lookup(cwd, env);
  if (existing) return E.right(existing);
  // useradd (Debian, Fedora) first, then busybox adduser (Alpine). A concurrent creator
  // makes ours fail with "already exists", so look up again whatever the exit code.
  const created = await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/bin/false', USER], {
    cwd,
    env,
    timeoutMs: 30_000,
  });
  if (created.code !== 0) await run('adduser', ['-S', '-D', '-H', USER], { cwd, env, timeoutMs: 30_000 });
  const after = await lookup(cwd, env);
  return after
    ? E.right(after)
    : E.left(
        OrbitErrors.databaseUnavailable(
          `running as root, PostgreSQL needs a non-root user and creating "${USER}" failed: ${created.spawnError ?? created.output.trim()}`,
        ),
      );
};

/** Gives `target` (and, when `recursive`, everything below it) to the server's account. */
export const chownTo = async (target: string, runAs: RunAs | undefined, recursive = false): Promise<void> => {
  if (!runAs) return;
  await fs.chown(target, runAs.uid, runAs.gid);
  if (!recursive) return;
  const entries = await fs.readdir(target, { withFileTypes: true });
  for (const entry of entries) {
    const child = path.join(target, entry.name);
    if (entry.isDirectory()) await chownTo(child, runAs, true);
    else await fs.lchown(child, runAs.uid, runAs.gid);
  }
};

/**
 * The first directory on the way to `target` that `runAs` cannot enter, judged by mode bits
 * (ignores ACLs and supplementary groups, so it is only used to explain a failure).
 */
export const unreachableAncestor = async (target: string, runAs: RunAs | undefined): Promise<string | undefined> => {
  if (!runAs) return undefined;
  let dir = path.dirname(path.resolve(target));
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain) {
    const st = await fs.stat(d).catch(() => undefined);
    if (!st) return undefined;
    // Unix checks only the first class that matches: owner, else group, else others.
    const bit = st.uid === runAs.uid ? 0o100 : st.gid === runAs.gid ? 0o010 : 0o001;
    const ok = (st.mode & bit) !== 0;
    if (!ok) return d;
  }
  return undefined;
};
