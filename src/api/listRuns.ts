/**
 * Read-only views of the journal and its projections for library users. The internal versions
 * take the raw pool; these take an `OrbitClient` (default: the shared one), so the public types
 * never expose the pool or need pg's types.
 */
import * as E from 'fp-ts/Either';
import type { ConnectFailure, FoldFailure, ReadFailure, RunNotFound } from '../errors';
import type { RecordedEvent } from '../events/runEvents';
import type { RunState } from '../fold/runState';
import { loadRunState as loadState } from '../journal/loadRunState';
import { readRunEvents as readEvents } from '../journal/readEvents';
import { verifyJournal as verify } from '../journal/verifyJournal';
import { checkProjections as check } from '../projections/checkProjections';
import { listRuns as list } from '../projections/listRuns';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
// The result types come from modules of types only, so the published .d.ts does not load the
// pool-taking modules, and with them pg's types.
import type { ChainBreak } from '../journal/chainBreak';
import type { ProjectionReport } from '../projections/projectionReport';
import type { ListRunsOptions, RunSummary } from '../projections/runSummary';

export type { ChainBreak } from '../journal/chainBreak';
export type { ProjectionDifference, ProjectionReport } from '../projections/projectionReport';
export type { ListRunsOptions, RunSummary } from '../projections/runSummary';

export interface ClientOption {
  /** Default: the shared client from the environment (`DATABASE_URL`, else embedded). */
  readonly client?: OrbitClient;
}

/** The newest runs, optionally filtered by status and pipeline (what `orbit runs` shows). */
export const listRuns = async (opts: ListRunsOptions & ClientOption = {}): Promise<E.Either<ConnectFailure, RunSummary[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : list(c.right.db, opts);
};

/** A run's journal, in seq order (what `orbit history` shows). */
export const readRunEvents = async (
  runId: string,
  opts: ClientOption & { readonly afterSeq?: number } = {},
): Promise<E.Either<ConnectFailure | ReadFailure, RecordedEvent[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : readEvents(c.right.db, runId, opts.afterSeq);
};

/** A run's state, folded from its journal. */
export const loadRunState = async (
  runId: string,
  opts: ClientOption = {},
): Promise<E.Either<ConnectFailure | FoldFailure | RunNotFound, RunState>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : loadState(c.right.db, runId);
};

/** Checks the journal's hash chains (of one run, or all); an empty list means intact. */
export const verifyJournal = async (
  opts: ClientOption & { readonly runId?: string } = {},
): Promise<E.Either<ConnectFailure, ChainBreak[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : verify(c.right.db, opts.runId);
};

/** Compares the projection tables with a fold of the journal (of the given runs, or all). */
export const checkProjections = async (
  opts: ClientOption & { readonly runIds?: readonly string[] } = {},
): Promise<E.Either<ConnectFailure | FoldFailure, ProjectionReport>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : check(c.right.db, opts.runIds);
};
