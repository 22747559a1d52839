import * as E from 'fp-ts/Either';
import { diffRuns as diff } from '../audit/diffRuns';
import type { RunComparison } from '../audit/runComparison';
import type { ConnectFailure, FoldFailure, RunNotFound } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RunComparison, RunSide, StepComparison, StepSide } from '../audit/runComparison';

/** Folds both runs' journals and compares them step by step (what `orbit diff` shows). */
export const diffRuns = async (
  runA: string,
  runB: string,
  opts: ClientOption = {},
): Promise<E.Either<ConnectFailure | FoldFailure | RunNotFound, RunComparison>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : diff(c.right.readDb, runA, runB);
};
