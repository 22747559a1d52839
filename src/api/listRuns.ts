import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { listRuns as list } from '../projections/listRuns';
// The result types come from modules of types only, so the published .d.ts does not load the
// pool-taking modules, and with them pg's types.
import type { ListRunsOptions, RunSummary } from '../projections/runSummary';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { ListRunsOptions, RunSummary, SuspendedOn } from '../projections/runSummary';

/** The newest runs, optionally filtered by status and pipeline (what `orbit runs` shows). */
export const listRuns = async (opts: ListRunsOptions & ClientOption = {}): Promise<E.Either<ConnectFailure, RunSummary[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : list(c.right.readDb, opts);
};
