import * as E from 'fp-ts/Either';
import type { ConnectFailure, FoldFailure, RunNotFound } from '../errors';
import { analyzeStepCompletion as analyze, type StepAnalysis } from '../recovery/analyzeStepCompletion';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { StepAnalysis } from '../recovery/analyzeStepCompletion';

/** Replays the run's journal and says which steps completed, failed, are in flight or pending. */
export const analyzeStepCompletion = async (
  runId: string,
  options: ClientOption = {},
): Promise<E.Either<ConnectFailure | FoldFailure | RunNotFound, StepAnalysis>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : analyze(c.right, runId);
};
