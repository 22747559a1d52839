import * as E from 'fp-ts/Either';
import type { OrbitError, ReadFailure } from '../../errors';
import type { RecordedEvent } from '../../events/runEvents';
import { isFinishedStatus } from '../../fold/runState';
import { streamRunEvents as stream } from '../../journal/readEvents';
import { RunWatcher } from '../../listen/runWatcher';
import { readRunStatus } from '../../queries/readRunStatus';
import type { OrbitClient } from '../../runtime/orbitClient';

/** Reading a run's journal as the CLI prints it. */
export { TERMINAL_TYPES, type RecordedEvent } from '../../events/runEvents';
export { isFinishedStatus, type RunStatus } from '../../fold/runState';

/** A run's journal a batch at a time (`orbit history` of a long run); the first Left ends it. */
export const streamRunEvents = (
  client: OrbitClient,
  runId: string,
): AsyncGenerator<E.Either<ReadFailure, RecordedEvent[]>, void, undefined> => stream(client.db, runId);

/** Waits for a run to end (NOTIFY wake-ups plus a cheap poll): its final status (`orbit run --queue --wait`). */
export const waitForRunEnd = async (client: OrbitClient, runId: string): Promise<E.Either<OrbitError, string>> => {
  const watcher = new RunWatcher(client.db);
  let wake: (() => void) | undefined;
  const unwatch = await watcher.watch(runId, () => wake?.());
  try {
    for (;;) {
      const rows = await readRunStatus(client.db, runId);
      if (E.isLeft(rows)) return rows;
      const status = rows.right[0]?.status;
      if (status !== undefined && isFinishedStatus(status)) return E.right(status);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    unwatch();
    await watcher.close();
  }
};
