import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import * as E from 'fp-ts/Either';
import { OrbitErrors, type DatabaseUnavailable } from '../../errors';
import type { Binaries } from './binaries';
import { exists } from './cluster';
import type { RunAs } from './proc';
import type { Env } from '../../util/env';
import { resolveRunAs, unreachableAncestor } from './user';

/*
 * Root in a directory the `postgres` account cannot enter (a 0700 home, the usual container case):
 * PostgreSQL refuses to run as root, and its account cannot reach a data directory or binaries
 * under that home. Rather than ask for a chmod, the cluster (and, when needed, a copy of the
 * binaries) goes to a cache of root's that the account can pass through but not list:
 * /var/tmp/orbit-0/<hash of the project's .orbit path>, which records that path in `project`.
 */

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Root's cache: /var/tmp/orbit-<uid> (mode 0711: others may pass through, not list). */
export const sharedRoot = (): string => path.join('/var/tmp', `orbit-${process.getuid?.() ?? 0}`);

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Where the cluster of `baseDir` lives when `baseDir` cannot be reached by the server's account. */
export const sharedHomeFor = (baseDir: string): string => path.join(sharedRoot(), digest(path.resolve(baseDir)));

/**
 * A directory of ours, mode 0711. /var/tmp is world-writable: one that someone else created
 * first (or a symlink) could hand them our cluster, so it is refused.
 */
const ownDir = async (dir: string): Promise<void> => {
  await fs.mkdir(dir, { mode: 0o711 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.()) {
    throw new Error(`${dir} is not a directory of this user's; remove it`);
  }
  await fs.chmod(dir, 0o711);
};

/** The directory the embedded server of `baseDir` uses now: the shared home once a start made one, else `baseDir`. */
export const knownHome = async (baseDir: string): Promise<string> => {
  if (!isRoot()) return baseDir;
  const shared = sharedHomeFor(baseDir);
  return (await exists(path.join(shared, 'project'))) ? shared : baseDir;
};

/**
 * The directory a start of the embedded server of `baseDir` uses: `baseDir`, unless we are root,
 * the server's account cannot pass through a directory above it and it holds no cluster yet;
 * then the shared home.
 */
export const homeToStart = async (baseDir: string, env: Env): Promise<E.Either<DatabaseUnavailable, string>> => {
  const known = await knownHome(baseDir);
  if (!isRoot() || known !== baseDir || (await exists(path.join(baseDir, 'pg', 'PG_VERSION')))) return E.right(known);
  const shared = sharedHomeFor(baseDir);
  const runAs = await resolveRunAs('/', env);
  if (E.isLeft(runAs)) return runAs;
  // Only the directories above baseDir count: baseDir itself is ours, and a start opens it to the
  // account (o+x), as it does for a 0700 mkdtemp directory given as ORBIT_HOME.
  if ((await unreachableAncestor(path.resolve(baseDir), runAs.right)) === undefined) return E.right(baseDir);
  try {
    await ownDir(sharedRoot());
    await ownDir(shared);
    // For people (and `orbit db status`): whose cluster this is.
    await fs.writeFile(path.join(shared, 'project'), `${path.resolve(baseDir)}\n`);
  } catch (err) {
    return E.left(
      OrbitErrors.databaseUnavailable(
        `${path.resolve(baseDir)} cannot be reached by the postgres account and ${shared} cannot be used instead: ${(err as Error).message}`,
      ),
    );
  }
  return E.right(shared);
};

/** Makes files readable (and directories and programs enterable) by everyone: u+rwX,go+rX. */
const openUp = async (p: string): Promise<void> => {
  const st = await fs.lstat(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    await fs.chmod(p, (st.mode & 0o7777) | 0o755);
    for (const entry of await fs.readdir(p)) await openUp(path.join(p, entry));
  } else {
    await fs.chmod(p, (st.mode & 0o7777) | 0o444 | ((st.mode & 0o100) !== 0 ? 0o111 : 0));
  }
};

/**
 * Binaries the server's account can run: these, or a copy of their installation (bin, lib,
 * share: the programs find the rest relative to themselves) in the shared cache, made once per
 * installation and shared by every project.
 */
export const reachableBinaries = async (bins: Binaries, runAs: RunAs | undefined): Promise<Binaries> => {
  if (!runAs || (await unreachableAncestor(bins.postgres, runAs)) === undefined) return bins;
  const native = path.resolve(path.dirname(bins.postgres), '..');
  const st = await fs.stat(bins.postgres);
  const target = path.join(sharedRoot(), `pg-${digest(`${native}:${st.size}:${st.mtimeMs}`)}`);
  if (!(await exists(path.join(target, '.complete')))) {
    await ownDir(sharedRoot());
    // Copy beside the target, then rename: a crash mid-copy never leaves half an installation.
    const scratch = `${target}.${process.pid}.tmp`;
    await fs.rm(scratch, { recursive: true, force: true });
    await fs.cp(native, scratch, { recursive: true, verbatimSymlinks: true });
    await openUp(scratch);
    await fs.writeFile(path.join(scratch, '.complete'), '');
    await fs.rename(scratch, target).catch(async () => {
      // Another process finished its copy first: use that one.
      await fs.rm(scratch, { recursive: true, force: true });
    });
  }
  const bin = (name: string): string => path.join(target, path.relative(native, path.dirname(bins.postgres)), name);
  return {
    initdb: bin(path.basename(bins.initdb)),
    pgCtl: bin(path.basename(bins.pgCtl)),
    postgres: bin(path.basename(bins.postgres)),
  };
};
