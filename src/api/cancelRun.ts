import * as E from 'fp-ts/Either';
import type { CancelFailure } from '../errors';
import { cancelRun as cancel, type CancelOptions } from '../executor/cancelRun';
import type { RunState } from '../fold/runState';
import { clientOr } from '../runtime/orbitClient';

export type { CancelOptions } from '../executor/cancelRun';

/**
 * Journals `run.cancelled` (what `orbit cancel` does). The executing process learns of it at once
 * through NOTIFY (the step's signal fires) and at the latest at its next append, which the seq
 * fence refuses. A finished run cannot be cancelled.
 */
export const cancelRun = async (runId: string, options: CancelOptions = {}): Promise<E.Either<CancelFailure, RunState>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : cancel(runId, { ...options, client: c.right });
};
