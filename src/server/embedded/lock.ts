import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as E from 'fp-ts/Either';
import { OrbitErrors, type DatabaseUnavailable } from '../../errors';
import { pidAlive } from './proc';
import { sleep } from '../../util/sleep';
import type { Clock } from '../../util/clock';

/** A lock untouched this long is abandoned even if its pid looks alive (pid reuse, other host). */
const STALE_AFTER_MS = 60_000;
/** The holder refreshes the lock's mtime this often, so a slow initdb never looks stale. */
const HEARTBEAT_MS = 10_000;

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

const parseHolder = (text: string): Holder | undefined => {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    return typeof r.pid === 'number' && typeof r.host === 'string' && typeof r.token === 'string'
      ? { pid: r.pid, host: r.host, token: r.token }
      : undefined;
  } catch {
    return undefined;
  }
};

const readLock = async (lockPath: string, clock: Clock): Promise<{ text: string; ageMs: number } | undefined> => {
  try {
    const [text, st] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    return { text, ageMs: clock.now() - st.mtimeMs };
  } catch {
    return undefined; // vanished between our open() and now: just retry
  }
};

const isStale = (text: string, ageMs: number): boolean => {
  const holder = parseHolder(text);
  // An unparsable lock is one whose writer died between open() and write(): give it a moment.
  if (!holder) return ageMs > 5_000;
  if (holder.host === os.hostname() && !pidAlive(holder.pid)) return true;
  return ageMs > STALE_AFTER_MS;
};

/**
 * Removes a stale lock without clobbering a fresh one: two waiters may both judge the same
 * lock stale, and the slower one must not delete the lock the faster one has just taken.
 * rename() moves whatever is there now; if that turns out to be someone else's fresh lock,
 * it is put back with link(), which never overwrites.
 */
const breakStale = async (lockPath: string, staleText: string): Promise<void> => {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await fs.rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) await fs.link(aside, lockPath).catch(() => undefined);
  await fs.unlink(aside).catch(() => undefined);
};

/** Releases the lock; safe to call once. */
export type Release = () => Promise<void>;

/**
 * Takes an exclusive lock file (`open(..., 'wx')`), waiting up to `timeoutMs` for a live
 * holder and breaking locks whose holder died (pid gone) or stopped refreshing (~60 s).
 */
export const acquireLock = async (
  lockPath: string,
  timeoutMs: number,
  clock: Clock,
): Promise<E.Either<DatabaseUnavailable, Release>> => {
  const me: Holder = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString('hex') };
  const mine = JSON.stringify(me);
  const deadline = clock.now() + timeoutMs;
  let lastHolder = '';
  for (;;) {
    try {
      const fh = await fs.open(lockPath, 'wx');
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      const heartbeat = setInterval(() => {
        const now = new Date(clock.now());
        fs.utimes(lockPath, now, now).catch(() => undefined);
      }, HEARTBEAT_MS);
      heartbeat.unref();
      return E.right(async () => {
        clearInterval(heartbeat);
        // Only delete it if it is still ours (it could have been broken as stale).
        const current = await fs.readFile(lockPath, 'utf8').catch(() => '');
        if (current === mine) await fs.unlink(lockPath).catch(() => undefined);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        return E.left(OrbitErrors.databaseUnavailable(`cannot create lock file ${lockPath}: ${(err as Error).message}`));
      }
    }
    const seen = await readLock(lockPath, clock);
    if (seen && isStale(seen.text, seen.ageMs)) {
      await breakStale(lockPath, seen.text);
      continue;
    }
    if (seen) lastHolder = seen.text;
    if (clock.now() > deadline) {
      const pid = parseHolder(lastHolder)?.pid;
      return E.left(
        OrbitErrors.databaseUnavailable(
          `timed out after ${Math.round(timeoutMs / 1000)} s waiting for lock file ${lockPath}${pid ? ` held by pid ${pid}` : ''}`,
        ),
      );
    }
    await sleep(50 + Math.random() * 100);
  }
};
