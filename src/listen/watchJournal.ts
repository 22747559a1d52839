import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { readJournalHead, readJournalSince } from '../queries/readJournalHead';
import type { JournalChange, JournalWatch } from './journalChange';
import { RunWatcher } from './runWatcher';

export type { JournalChange, JournalWatch } from './journalChange';

/** Positions read per poll: past this many events in one poll, every run may have changed. */
const POLL_BATCH = 1000;

/**
 * Tells `onChange` whenever the journal moves, for any number of readers on one LISTEN connection:
 * NOTIFY at once for transitions (claimed, released, resumed, ended), and a poll of the journal's
 * head (a range of the primary key) every `pollMs` for the events that send no NOTIFY (a run created,
 * a step started or finished). A position committed out of order can be missed by the poll; the
 * run's next event is not.
 */
export const watchJournal = async (
  db: Database,
  onChange: (c: JournalChange) => void,
  pollMs: number,
): Promise<E.Either<DbFailure, JournalWatch>> => {
  const first = await readJournalHead(db);
  if (E.isLeft(first)) return first;
  let head = first.right[0]?.head ?? '0';
  const watcher = new RunWatcher(db, 'ui');
  let unwatch: () => void;
  try {
    unwatch = await watcher.watchAll((n) => onChange({ runId: n.run_id }));
  } catch (err) {
    await watcher.close();
    return E.left({ _tag: 'DatabaseUnavailable', message: err instanceof Error ? err.message : String(err) });
  }
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    const since = await readJournalSince(db, head, POLL_BATCH);
    if (closed) return;
    if (E.isRight(since) && since.right.length > 0) {
      head = since.right[since.right.length - 1]?.position ?? head;
      // A burst larger than a batch: say "everything" rather than read it all.
      if (since.right.length === POLL_BATCH) onChange({ runId: null });
      else for (const id of new Set(since.right.map((r) => r.run_id))) onChange({ runId: id });
    }
    timer = setTimeout(() => void poll(), pollMs);
    timer.unref();
  };
  timer = setTimeout(() => void poll(), pollMs);
  timer.unref();
  return E.right({
    close: async () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      unwatch();
      await watcher.close();
    },
  });
};
