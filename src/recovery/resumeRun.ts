import * as E from 'fp-ts/Either';
import {
  OrbitErrors,
  type AppendFailure,
  type ConcurrencyConflict,
  type RecoveryLimitReached,
  type ResumeFailure,
  type RunAlreadyClaimed,
} from '../errors';
import type { RunEvent } from '../events/runEvents';
import { executeRun, type ExecuteOptions } from '../executor/executeRun';
import type { RunState, RunStatus } from '../fold/runState';
import type { SuspendedOn } from '../fold/runWait';
import { appendToRun } from '../journal/appendEvents';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { planResume, resumeRequest, type PlanOptions } from './planResume';

export interface ResumeOptions extends ExecuteOptions, PlanOptions {
  readonly client?: OrbitClient;
  /** Why (journaled in `run.resumed`). Default `interrupted`. */
  readonly reason?: string;
}

/** Options of the workers' own resumes. */
export interface InternalResumeOptions extends ResumeOptions {
  /** The reason, from the run's state as planned (a wake-up names what made the run due); overrides `reason`. */
  readonly reasonOf?: (state: RunState) => string;
}

/** What a successful resume did. */
export interface ResumeSuccess {
  readonly runId: string;
  readonly pipelineId: string;
  /** How the run stands now. */
  readonly status: RunStatus;
  /** Distinct steps this resume executed. */
  readonly stepsExecuted: number;
  /** The step execution resumed from. */
  readonly resumedFrom: string | null;
  /** Steps that had started with no outcome journaled and were executed again. */
  readonly reExecutedInFlight: readonly string[];
  readonly durationMs: number;
  /** True when this process was stopped and gave the run back before it finished (not when it suspended). */
  readonly released: boolean;
  /** What the run sleeps or waits on, when it suspended again (`status` `sleeping` or `waiting`); null otherwise. */
  readonly suspended: SuspendedOn | null;
  readonly error: string | null;
}

/** A plain Either (`orbit-pipeline/promise` has the spec's `{ success, stepsExecuted, error }` shape). */
export type ResumeResult = E.Either<ResumeFailure, ResumeSuccess>;

const fail = (error: ResumeFailure): ResumeResult => E.left(error);

/** The poison-run cap was reached: journal the run's failure (the plan's events), at the seq the plan saw. */
const giveUp = async (
  client: OrbitClient,
  state: RunState,
  events: readonly RunEvent[],
): Promise<Exclude<AppendFailure, ConcurrencyConflict> | RunAlreadyClaimed | RecoveryLimitReached> => {
  const { runId } = state;
  const r = await appendToRun(client.db, { runId, expectedSeq: state.lastSeq, state, writer: client.workerId, events });
  if (E.isLeft(r)) return r.left._tag === 'ConcurrencyConflict' ? OrbitErrors.runAlreadyClaimed(runId) : r.left;
  return OrbitErrors.recoveryLimitReached(runId, state.recoveryCount);
};

/**
 * Resumes an interrupted run from its next step. Checks it may (not finished, no failed steps
 * unless `retryFailed`, pipeline registered and unchanged unless `force`, nobody alive holding it),
 * claims it with an optimistic `run.resumed` append (exactly one of several racing claimants wins;
 * the others get RunAlreadyClaimed), and hands it to the executor. Steps that succeeded are never
 * executed again.
 */
export const resumeRun = async (runId: string, options: InternalResumeOptions = {}): Promise<ResumeResult> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return fail(c.left);
  const client = c.right;
  const t0 = client.clock.now();

  const plan = await planResume(client, runId, options);
  if (E.isLeft(plan)) return fail(plan.left);
  const { state, pipeline, analysis, capReached, decision } = plan.right;
  if (capReached) return fail(await giveUp(client, state, decision.events));

  const executed = await executeRun(
    client,
    pipeline,
    runId,
    {
      state,
      claim: { kind: 'resume', ...resumeRequest({ ...options, reason: options.reasonOf?.(state) ?? options.reason }) },
      claimConflict: OrbitErrors.runAlreadyClaimed(runId),
    },
    options,
  );
  if (E.isLeft(executed)) return fail(executed.left);
  const r = executed.right;
  if (r.status !== 'success' && !r.released && r.suspended === null) {
    return fail(OrbitErrors.runFailed(runId, r.status, r.error ?? 'no reason recorded'));
  }
  return E.right({
    runId,
    pipelineId: r.pipelineId,
    status: r.status,
    stepsExecuted: r.stepsExecuted,
    resumedFrom: analysis.nextStep,
    reExecutedInFlight: analysis.inFlightSteps,
    durationMs: client.clock.now() - t0,
    released: r.released,
    suspended: r.suspended,
    error: r.error,
  });
};
