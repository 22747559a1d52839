/**
 * The audit functions for library users, taking an `OrbitClient` (default: the shared one) like
 * src/inspect.ts: the internal versions take the raw pool, whose types (pg's) the published .d.ts
 * must not need, and with which a caller could bypass the journal's invariants. docs/AUDIT.md.
 */
import * as E from 'fp-ts/Either';
import { auditJournal as audit, type AuditReport as InternalAuditReport } from '../audit/auditJournal';
import { diffRuns as diff, type RunComparison as InternalRunComparison } from '../audit/diffRuns';
import type { ExportedEvent } from '../audit/exportFormat';
import { exportRuns as exportAll, type ExportSelection as InternalExportSelection } from '../audit/exportRuns';
import {
  followRun as follow,
  type FollowOptions as InternalFollowOptions,
  type FollowResult as InternalFollowResult,
} from '../audit/followRun';
import type { AuditProblem } from '../audit/problems';
import type { ConnectFailure, FoldFailure, ReadFailure, RunNotFound } from '../errors';
import type { RecordedEvent } from '../events/runEvents';
import type { StepStatus } from '../fold/runState';
import type { ClientOption } from './listRuns';
import { clientOr } from '../runtime/orbitClient';

// Public copies of the internal result types (importing those would load the pool-taking
// modules' types into the .d.ts); the check below keeps them in step.
/** What `auditJournal` (`orbit verify`) found. */
export interface AuditReport {
  readonly runsChecked: number;
  /** Every problem found, run by run in id order; empty when everything verifies. */
  readonly problems: readonly AuditProblem[];
  /** Runs with at least one problem in the journal itself (not only in the projections). */
  readonly brokenRuns: readonly string[];
}
/** One run's side of a step in `diffRuns`. */
export interface StepSide {
  readonly status: StepStatus;
  readonly attempts: number;
  /** Of its last attempt, from its start to the step's end; null while it has not ended. */
  readonly durationMs: number | null;
}
/** One step of two runs, side by side. */
export interface StepComparison {
  readonly step: string;
  /** null when the run has no such step. */
  readonly a: StepSide | null;
  readonly b: StepSide | null;
  /** Whether both succeeded with equal results; null when either has no result to compare. */
  readonly sameResult: boolean | null;
  /** The first JSON path where the results differ (`$.rows[3].id`), when they do. */
  readonly firstDifference: string | null;
}
interface RunSide {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: string;
  readonly durationMs: number | null;
}
/** What `orbit diff` shows: two runs and their steps side by side. */
export interface RunComparison {
  readonly a: RunSide;
  readonly b: RunSide;
  readonly steps: readonly StepComparison[];
}
export interface ExportSelection {
  /** These runs, in this order. Without: every run (in id order). */
  readonly runIds?: readonly string[];
  /** With every run: only runs created at or after this time (ISO-8601). */
  readonly since?: string;
}
export interface FollowOptions {
  /** Deliver events after this seq. Default 0 (the whole run). */
  readonly afterSeq?: number;
  /** Called for each event, in seq order, as soon as it is read. */
  readonly onEvent: (e: RecordedEvent) => void;
  /** Stops following (the promise then resolves with `ended: false`). */
  readonly signal?: AbortSignal;
  /** Poll interval between notifications. Default 500 ms. */
  readonly pollMs?: number;
}
export interface FollowResult {
  /** Whether the run reached a terminal event (a `--retry-failed` resume may still follow a failure). */
  readonly ended: boolean;
  /** The seq of the last event delivered (afterSeq when none). */
  readonly lastSeq: number;
}
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inStep: [
  Same<AuditReport, InternalAuditReport>,
  Same<RunComparison, InternalRunComparison>,
  Same<ExportSelection, InternalExportSelection>,
  Same<FollowOptions, InternalFollowOptions>,
  Same<FollowResult, InternalFollowResult>,
] = [true, true, true, true, true];
void inStep;

/**
 * Audits every run (or the given ones): hash chain, seq order, decoding, legality of every event,
 * projections against the fold. A damaged run is a problem in the report, not a Left: only a
 * database failure is.
 */
export const auditJournal = async (
  opts: ClientOption & { readonly runIds?: readonly string[] } = {},
): Promise<E.Either<ConnectFailure, AuditReport>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : audit(c.right.db, opts.runIds);
};

/** Folds both runs' journals and compares them step by step (what `orbit diff` shows). */
export const diffRuns = async (
  runA: string,
  runB: string,
  opts: ClientOption = {},
): Promise<E.Either<ConnectFailure | FoldFailure | RunNotFound, RunComparison>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : diff(c.right.db, runA, runB);
};

/**
 * The selected runs' events as stored, hashes included, a batch at a time (what `orbit export`
 * writes; `verifyExport` checks it). The first Left ends it; a named run with no events is RunNotFound.
 */
export async function* exportRuns(
  selection: ExportSelection,
  opts: ClientOption = {},
): AsyncGenerator<E.Either<ConnectFailure | RunNotFound, ExportedEvent[]>, void, undefined> {
  const c = await clientOr(opts.client);
  if (E.isLeft(c)) {
    yield c;
    return;
  }
  yield* exportAll(c.right.db, selection);
}

/**
 * Streams a run's journal to `onEvent` until the run ends or `signal` aborts (what
 * `orbit history --follow` prints): woken at once by the run's NOTIFYs, polling cheaply between
 * them. An unknown run is followed until `signal` aborts (it may be about to be created).
 */
export const followRun = async (
  runId: string,
  opts: ClientOption & FollowOptions,
): Promise<E.Either<ConnectFailure | ReadFailure, FollowResult>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : follow(c.right.db, runId, opts);
};
