import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { ReadFailure } from '../errors';
import { TERMINAL_TYPES } from '../events/runEvents';
import { RunWatcher } from '../listen/runWatcher';
import { streamRunEvents } from '../journal/readEvents';
import type { FollowOptions, FollowResult } from './followOptions';

export type { FollowOptions, FollowResult } from './followOptions';

/**
 * Streams a run's journal until the run ends or `signal` aborts. A NOTIFY on the run's transitions
 * wakes it at once; step events do not notify (they would cost every commit a cluster-wide lock),
 * so it also polls, cheaply, on the (run_id, seq) index.
 */
export const followRun = async (
  db: Database,
  runId: string,
  opts: FollowOptions,
): Promise<E.Either<ReadFailure, FollowResult>> => {
  const watcher = new RunWatcher(db);
  let wake: (() => void) | undefined;
  const unwatch = await watcher.watch(runId, () => wake?.());
  const onAbort = () => wake?.();
  opts.signal?.addEventListener('abort', onAbort);
  let last = opts.afterSeq ?? 0;
  try {
    for (;;) {
      for await (const batch of streamRunEvents(db, runId, { afterSeq: last })) {
        if (E.isLeft(batch)) return batch;
        for (const r of batch.right) {
          opts.onEvent(r);
          last = r.seq;
          if (TERMINAL_TYPES.has(r.event.type)) return E.right({ ended: true, lastSeq: last });
        }
      }
      if (opts.signal?.aborted === true) return E.right({ ended: false, lastSeq: last });
      // Sleep until the poll interval, a notification, or the abort; one wake function at a time.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.pollMs ?? 500);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    unwatch();
    await watcher.close();
  }
};
