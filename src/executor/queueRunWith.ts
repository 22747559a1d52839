import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { withTransaction } from '../db/database';
import type { DbFailure, EnqueueFailure } from '../errors';
import { appendedOf, prepareAppend } from '../journal/appendEvents';
import { appendRunEventsOn } from '../queries/appendEvents';
import { notifyRunQueued } from '../queries/notifyRunQueued';
import type { OrbitClient } from '../runtime/orbitClient';
import { sleep } from '../util/sleep';
import { prepareRun } from './runPipeline';

/** What `queueRunWith` did: queued the run, or not (the guard said no, or the run already existed). */
export type QueuedWith = 'queued' | 'refused' | 'exists';

/**
 * Queues a run (as `enqueueRun`, without delay, priority or dedup key) in one transaction with
 * `guard`, a statement of the caller's that says whether the run is to be created at all (a
 * schedule's tick row): both commit, or neither does. A process that dies between them leaves
 * nothing behind, so the next one to try does it all (issue 19 item 3: a tick whose row was
 * written by a worker that died before queuing its run was lost). The notification goes out at
 * the commit. A run of that id that already exists is `exists`; the guard's writes commit then too.
 */
export const queueRunWith = async (
  client: OrbitClient,
  name: string,
  metadata: unknown,
  options: { readonly runId: string; readonly triggeredBy: string },
  guard: (conn: PoolClient) => Promise<E.Either<DbFailure, boolean>>,
): Promise<E.Either<EnqueueFailure, QueuedWith>> => {
  const prepared = await prepareRun(name, metadata, { client, runId: options.runId }, `queue:${options.triggeredBy}`);
  if (E.isLeft(prepared)) return prepared;
  const { runId, events } = prepared.right;
  const req = {
    runId,
    expectedSeq: 0,
    state: null,
    events: events.filter((e) => e.type === 'run.created'),
    writer: client.workerId,
  };
  const { db } = client;
  const attempt = () =>
    withTransaction(db, async (conn): Promise<E.Either<EnqueueFailure, QueuedWith>> => {
      const go = await guard(conn);
      if (E.isLeft(go)) return go;
      if (!go.right) return E.right('refused');
      const call = prepareAppend(req);
      const appended = E.isLeft(call) ? call : appendedOf(req, call.right, await appendRunEventsOn(db, conn, call.right.call));
      if (E.isLeft(appended)) return appended.left._tag === 'ConcurrencyConflict' ? E.right('exists') : E.left(appended.left);
      const notified = await notifyRunQueued(db, runId, conn);
      if (E.isLeft(notified)) return notified;
      return E.right('queued');
    });
  // A transaction lost with its connection is tried again whole, within the retry budget: the
  // guard decides afresh (after a commit whose reply was lost it finds its own row: nothing twice).
  const deadline = client.clock.now() + db.retryBudgetMs;
  for (let delay = 50; ; delay = Math.min(2_000, delay * 2)) {
    const r = await attempt();
    if (E.isRight(r) || r.left._tag !== 'DatabaseUnavailable' || client.clock.now() + delay > deadline) return r;
    await sleep(delay);
  }
};
