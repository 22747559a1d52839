import * as E from 'fp-ts/Either';
import { OrbitErrors, type CancelFailure } from '../errors';
import type { RunState } from '../fold/runState';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';

export interface CancelOptions {
  readonly client?: OrbitClient;
  readonly reason?: string;
}

/**
 * Journals `run.cancelled`. The executing process learns of it at once through NOTIFY (the step's
 * signal fires) and at the latest at its next append, which the seq fence refuses. A finished run
 * cannot be cancelled. Retries when the executor appends at the same moment.
 */
export const cancelRun = async (runId: string, options: CancelOptions = {}): Promise<E.Either<CancelFailure, RunState>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const client = c.right;
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = await loadRunState(client.db, runId);
    if (E.isLeft(state)) return state;
    const s = state.right;
    if (!['pending', 'running', 'sleeping', 'waiting'].includes(s.status))
      return E.left(OrbitErrors.runNotCancellable(runId, s.status));
    const r = await appendToRun(client.db, {
      runId,
      expectedSeq: s.lastSeq,
      state: s,
      writer: client.workerId,
      events: [{ type: 'run.cancelled', payload: { reason: options.reason ?? 'cancelled by request', by: client.workerId } }],
    });
    if (E.isRight(r)) return E.right(r.right.state);
    if (r.left._tag !== 'ConcurrencyConflict') return r;
  }
  return E.left(OrbitErrors.concurrencyConflict(runId, -1, null));
};
