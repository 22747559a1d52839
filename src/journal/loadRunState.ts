import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { FoldFailure, RunNotFound } from '../errors';
import { foldEvents } from '../fold/evolve';
import type { RunState } from '../fold/runState';
import { streamRunEvents } from './readEvents';

/**
 * Replays a run's journal through the fold. A run with no events is RunNotFound. With `client`,
 * reads through it (inside the caller's transaction and snapshot).
 */
export const loadRunState = async (
  db: Database,
  runId: string,
  client?: PoolClient,
): Promise<E.Either<FoldFailure | RunNotFound, RunState>> => {
  let state: RunState | null = null;
  for await (const batch of streamRunEvents(db, runId, { client })) {
    if (E.isLeft(batch)) return batch;
    const next = foldEvents(state, batch.right);
    if (E.isLeft(next)) return next;
    state = next.right;
  }
  return state === null ? E.left({ _tag: 'RunNotFound', runId }) : E.right(state);
};
