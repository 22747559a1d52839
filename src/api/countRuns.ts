import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import type { RunCounts } from '../projections/runPage';
import { countRuns as count } from '../projections/searchRuns';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RunCounts } from '../projections/runPage';

export interface CountRunsOptions extends ClientOption {
  /** Only this pipeline's runs. */
  readonly pipelineId?: string;
  /** Count each status up to this many (default 100,000): the cost stays bounded at any size. */
  readonly cap?: number;
}

/** How many runs are in each status (the dashboard's counts). */
export const countRuns = async (opts: CountRunsOptions = {}): Promise<E.Either<ConnectFailure, RunCounts>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : count(c.right.readDb, opts.pipelineId ?? null, opts.cap ?? 100_000);
};
