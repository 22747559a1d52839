import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import type { RunPage, SearchRunsOptions } from '../projections/runPage';
import { searchRuns as search } from '../projections/searchRuns';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RunPage, RunPageEntry, SearchRunsOptions } from '../projections/runPage';

/**
 * One page of runs, newest first (what `orbit ui` lists): by status, pipeline, run id or metadata
 * value, with a keyset cursor (`next`) for the next page, so that page 1,000 costs what page 1 does.
 */
export const searchRuns = async (opts: SearchRunsOptions & ClientOption = {}): Promise<E.Either<ConnectFailure, RunPage>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : search(c.right.readDb, opts);
};
