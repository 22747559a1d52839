import * as E from 'fp-ts/Either';
import { formatError, type DbFailure } from '../errors';
import type { RunEvent } from '../events/runEvents';
import type { OrbitClient } from '../runtime/orbitClient';
import { detectInterruptedRuns } from './detectInterruptedRuns';
import type { StepAnalysis } from './analyzeStepCompletion';
import { planResume } from './planResume';

/** What recovery would do with one interrupted run. */
export interface RecoveryPlanEntry {
  readonly runId: string;
  readonly pipelineId: string;
  /** Why the run would not be resumed (or would be failed instead); null when it would be. */
  readonly refusal: string | null;
  /** The step execution would resume from (null: nothing left, the run would be marked succeeded). */
  readonly fromStep: string | null;
  /** Every step the resume would start (or that blocks it): `fromStep` and, for a DAG, the other ready branches. */
  readonly readySteps: readonly string[];
  /** In-flight steps (started, no outcome) that would run again. */
  readonly reExecuted: readonly string[];
  readonly retrying: StepAnalysis['retryingSteps'];
  /** The events the resume (or the cap's failure) would append first; empty when refused. */
  readonly wouldAppend: readonly RunEvent['type'][];
}

/**
 * The plan of `orbit recover --dry-run`: the interrupted runs, and for each what a resume would
 * do (the same checks and decisions as resumeRun, through planResume and decideNext). Nothing is
 * claimed or written.
 */
export const planRecovery = async (
  client: OrbitClient,
  options: { readonly limit?: number } = {},
): Promise<E.Either<DbFailure, readonly RecoveryPlanEntry[]>> => {
  const runs = await detectInterruptedRuns(client, { limit: options.limit });
  if (E.isLeft(runs)) return runs;
  const plan: RecoveryPlanEntry[] = [];
  for (const r of runs.right) {
    const p = await planResume(client, r.runId, { expectedSeq: r.lastSeq });
    const base = { runId: r.runId, pipelineId: r.pipelineId };
    if (E.isLeft(p)) {
      plan.push({
        ...base,
        refusal: formatError(p.left),
        fromStep: null,
        readySteps: [],
        reExecuted: [],
        retrying: [],
        wouldAppend: [],
      });
      continue;
    }
    const a = p.right.analysis;
    const refusal = p.right.capReached
      ? `would be failed instead: taken over ${p.right.state.recoveryCount} times without finishing (the recovery cap)`
      : null;
    plan.push({
      ...base,
      refusal,
      fromStep: a.nextStep,
      readySteps: a.readySteps,
      reExecuted: a.inFlightSteps,
      retrying: a.retryingSteps,
      wouldAppend: p.right.decision.events.map((e) => e.type),
    });
  }
  return E.right(plan);
};
