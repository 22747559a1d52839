import * as E from 'fp-ts/Either';
import { replayRun as replay, type Replay, type ReplayPoint } from '../audit/replayRun';
import type { ConnectFailure, EventDecodeError, FoldFailure, InvalidInput, InvalidMetadata, RunNotFound } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { Replay, ReplayPoint, ReplayedContext, ReplayedStep } from '../audit/replayRun';

/**
 * Replays a run's journal up to a point (`{ seq }`, or `{ time }`: every event that occurred at or
 * before it) and returns the run's state then, and the StepContext its next step would have
 * received (what `orbit replay` prints). The journal is only read.
 */
export const replayRun = async (
  runId: string,
  at: ReplayPoint,
  options: ClientOption = {},
): Promise<E.Either<ConnectFailure | FoldFailure | RunNotFound | InvalidInput | InvalidMetadata | EventDecodeError, Replay>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : replay(c.right, runId, at);
};
