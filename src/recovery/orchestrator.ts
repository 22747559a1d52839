import * as E from 'fp-ts/Either';
import type { DbFailure, InvalidInput } from '../errors';
import type { Progress } from '../executor/executeRun';
import type { OrbitClient } from '../runtime/orbitClient';
import { detectInterruptedRuns, type InterruptedRun } from './detectInterruptedRuns';
import { outcomeOf } from './outcomeOf';
import type { RecoveryOutcome } from './recoveryOutcome';
import { resumeRun } from './resumeRun';

export type { RecoveryOutcome } from './recoveryOutcome';

export interface RecoverySummary {
  readonly detected: number;
  readonly recovered: number;
  readonly failed: number;
  /** Runs another process claimed first: not recovered here, not failed either. */
  readonly skipped: number;
  readonly results: readonly RecoveryOutcome[];
  readonly durationMs: number;
}

/** Things the orchestrator reports as it works (the CLI prints them). */
export type RecoveryEvent =
  | { readonly kind: 'attempt'; readonly run: InterruptedRun }
  | { readonly kind: 'outcome'; readonly outcome: RecoveryOutcome }
  | { readonly kind: 'step'; readonly progress: Progress };

export interface OrchestratorOptions {
  readonly thresholdMs?: number;
  /** Runs resumed at the same time. Default 4. */
  readonly concurrency?: number;
  /** At most this many runs per call. Default 1,000. */
  readonly limit?: number;
  readonly maxRecoveries?: number;
  readonly onEvent?: (e: RecoveryEvent) => void;
  /** Graceful stop: resumed runs finish their current step and are released. */
  readonly stopSignal?: AbortSignal;
  /** Hard stop: resumed runs abort their current step and are released. */
  readonly abortSignal?: AbortSignal;
  /**
   * Resumes a run that was already taken over at least once somewhere it can die alone (the CLI:
   * a child process of its own), so that a step that kills its process is charged to its own run
   * and never takes healthy neighbours (and their recovery counts) down with it.
   */
  readonly isolate?: (run: InterruptedRun, reason: string) => Promise<RecoveryOutcome>;
}

/** Resume in isolation: the run has been taken over before, so it may be what killed its worker (unless that worker lives). */
export const needsIsolation = (run: InterruptedRun): boolean => run.recoveryCount >= 1 && run.owner !== null && !run.ownerAlive;

/**
 * Detects interrupted runs and resumes each (several at once): the work of the spec's
 * `RunRecoveryOrchestrator` (src/api/). Any number of orchestrators, in any number of processes,
 * may run together: each run's claim is an optimistic append, so exactly one wins and the others
 * report the run as skipped.
 */
export const recoverInterruptedRuns = async (
  client: OrbitClient,
  options: OrchestratorOptions = {},
): Promise<E.Either<DbFailure | InvalidInput, RecoverySummary>> => {
  const t0 = client.clock.now();
  // NaN or 0 workers would "recover" nothing and report every run as a null result.
  for (const [what, n] of [
    ['concurrency', options.concurrency],
    ['limit', options.limit],
  ] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 1))
      return E.left({ _tag: 'InvalidInput', what, message: `${String(n)} is not a positive whole number` });
  }
  const detected = await detectInterruptedRuns(client, { thresholdMs: options.thresholdMs, limit: options.limit });
  if (E.isLeft(detected)) return detected;
  const runs = detected.right;
  const results: RecoveryOutcome[] = new Array<RecoveryOutcome>(runs.length);
  let next = 0;
  const emit = options.onEvent ?? (() => undefined);

  const recoverOne = async (run: InterruptedRun): Promise<RecoveryOutcome> => {
    emit({ kind: 'attempt', run });
    if (options.isolate && needsIsolation(run)) return options.isolate(run, 'interrupted');
    const r = await resumeRun(run.runId, {
      client,
      expectedSeq: run.lastSeq,
      thresholdMs: options.thresholdMs,
      maxRecoveries: options.maxRecoveries,
      stopSignal: options.stopSignal,
      abortSignal: options.abortSignal,
      onProgress: (progress) => emit({ kind: 'step', progress }),
    });
    return outcomeOf(run, r);
  };

  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      const run = runs[i] as InterruptedRun;
      const outcome: RecoveryOutcome = options.stopSignal?.aborted
        ? { runId: run.runId, pipelineId: run.pipelineId, outcome: 'skipped', reason: 'not attempted (stopping)' }
        : await recoverOne(run);
      results[i] = outcome;
      emit({ kind: 'outcome', outcome });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, runs.length)) }, worker));

  const count = (o: RecoveryOutcome['outcome']) => results.filter((r) => r.outcome === o).length;
  const summary: RecoverySummary = {
    detected: runs.length,
    recovered: count('recovered'),
    failed: count('failed'),
    skipped: count('skipped'),
    results,
    durationMs: client.clock.now() - t0,
  };
  return E.right(summary);
};
