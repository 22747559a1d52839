import * as E from 'fp-ts/Either';
import type { ConnectFailure, FoldFailure, RunNotFound } from '../errors';
import type { RunState } from '../fold/runState';
import { loadRunState as loadState } from '../journal/loadRunState';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RunState, StepState, RunStatus, StepStatus } from '../fold/runState';

/** A run's state, folded from its journal. */
export const loadRunState = async (
  runId: string,
  opts: ClientOption = {},
): Promise<E.Either<ConnectFailure | FoldFailure | RunNotFound, RunState>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : loadState(c.right.db, runId);
};

/** What a sleeping or waiting run is suspended on, from its state, and the words every view shows it in. */
export { currentWait, describeWait } from '../fold/runWait';
