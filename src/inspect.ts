/**
 * Read-only views of the journal and its projections for library users. The internal versions
 * take the raw pool; these take an `OrbitClient` (default: the shared one), so the public types
 * never expose the pool or need pg's types.
 */
import * as E from 'fp-ts/Either';
import type { OrbitError } from './errors';
import type { RecordedEvent } from './events/runEvents';
import type { RunState } from './fold/runState';
import { loadRunState as loadState } from './journal/loadRunState';
import { readRunEvents as readEvents } from './journal/readEvents';
import { verifyJournal as verify, type ChainBreak as InternalChainBreak } from './journal/verifyJournal';
import { checkProjections as check, type ProjectionReport as InternalProjectionReport } from './projections/checkProjections';
import {
  listRuns as list,
  type ListRunsOptions as InternalListOptions,
  type RunSummary as InternalRunSummary,
} from './projections/listRuns';
import type { RunStatus } from './fold/runState';
import { clientOr, type OrbitClient } from './runtime/orbitClient';

// The public copies of the internal modules' result types. Declared here because importing them
// from those modules would make the published .d.ts load the modules' pool-taking functions, and
// with them pg's types. The checks below keep the copies in step with the originals.
export interface RunSummary {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly stepsSucceeded: number;
  readonly stepsTotal: number;
  readonly error: string | null;
}
export interface ListRunsOptions {
  readonly status?: RunStatus;
  readonly pipelineId?: string;
  /** Newest first; default 20. */
  readonly limit?: number;
}
/** An event whose stored hash is not what its content and its predecessor say it should be. */
export interface ChainBreak {
  readonly runId: string;
  readonly seq: number;
  readonly reason: 'hash mismatch' | 'seq gap';
}
/** One field where the projection tables and the fold of the journal disagree. */
export interface ProjectionDifference {
  readonly runId: string;
  /** e.g. `runs.status` or `steps[transform].attempt_count`. */
  readonly field: string;
  readonly projected: unknown;
  readonly folded: unknown;
}
export interface ProjectionReport {
  readonly runsChecked: number;
  readonly differences: readonly ProjectionDifference[];
}
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inStep: [
  Same<RunSummary, InternalRunSummary>,
  Same<ListRunsOptions, InternalListOptions>,
  Same<ChainBreak, InternalChainBreak>,
  Same<ProjectionReport, InternalProjectionReport>,
] = [true, true, true, true];
void inStep;

export interface ClientOption {
  /** Default: the shared client from the environment (`DATABASE_URL`, else embedded). */
  readonly client?: OrbitClient;
}

/** The newest runs, optionally filtered by status and pipeline (what `orbit runs` shows). */
export const listRuns = async (opts: ListRunsOptions & ClientOption = {}): Promise<E.Either<OrbitError, RunSummary[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : list(c.right.db, opts);
};

/** A run's journal, in seq order (what `orbit history` shows). */
export const readRunEvents = async (
  runId: string,
  opts: ClientOption & { readonly afterSeq?: number } = {},
): Promise<E.Either<OrbitError, RecordedEvent[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : readEvents(c.right.db, runId, opts.afterSeq);
};

/** A run's state, folded from its journal. */
export const loadRunState = async (runId: string, opts: ClientOption = {}): Promise<E.Either<OrbitError, RunState>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : loadState(c.right.db, runId);
};

/** Checks the journal's hash chains (of one run, or all); an empty list means intact. */
export const verifyJournal = async (
  opts: ClientOption & { readonly runId?: string } = {},
): Promise<E.Either<OrbitError, ChainBreak[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : verify(c.right.db, opts.runId);
};

/** Compares the projection tables with a fold of the journal (of the given runs, or all). */
export const checkProjections = async (
  opts: ClientOption & { readonly runIds?: readonly string[] } = {},
): Promise<E.Either<OrbitError, ProjectionReport>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : check(c.right.db, opts.runIds);
};
