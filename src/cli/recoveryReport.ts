import * as E from 'fp-ts/Either';
import type { OrbitError } from '../errors';
import {
  RunRecoveryOrchestrator,
  type OrchestratorOptions,
  type RecoveryEvent,
  type RecoverySummary,
} from '../recovery/orchestrator';
import { ExitCode } from './exitCodes';
import type { Output } from './output';
import { printProgress } from './progress';
import type { OrbitClient } from '../runtime/orbitClient';

/** The spec's lines for each recovery event ("Attempting to recover run …", "✓ Recovered run …"). */
export const printRecoveryEvent =
  (out: Output, verbose: boolean) =>
  (e: RecoveryEvent): void => {
    if (e.kind === 'attempt') out.line(`Attempting to recover run ${e.run.runId} (${e.run.pipelineId})...`);
    else if (e.kind === 'step') {
      if (verbose) printProgress(out)(e.progress);
    } else {
      const o = e.outcome;
      if (o.outcome === 'recovered') out.success(`Recovered run ${o.runId}, executed ${o.result.stepsExecuted} step(s)`);
      else if (o.outcome === 'skipped') out.info(`Run ${o.runId} skipped: ${o.reason}`);
      else out.failure(`Failed to recover run ${o.runId}: ${o.message}`);
    }
  };

/** Recovers every interrupted run, printing the spec's lines. Used by `recover` and `--auto-recover`. */
export const recoverAll = async (
  // Not `Session`: session.ts calls this (for --auto-recover), so importing its type would be a cycle.
  s: { readonly client: OrbitClient; readonly out: Output },
  opts: {
    concurrency?: number;
    limit?: number;
    verbose?: boolean;
    stopSignal?: AbortSignal;
    abortSignal?: AbortSignal;
    isolate?: OrchestratorOptions['isolate'];
  },
): Promise<E.Either<OrbitError, RecoverySummary>> => {
  const { client, out } = s;
  const orchestrator = new RunRecoveryOrchestrator({
    client,
    concurrency: opts.concurrency,
    limit: opts.limit,
    stopSignal: opts.stopSignal,
    abortSignal: opts.abortSignal,
    isolate: opts.isolate,
    onEvent: printRecoveryEvent(out, opts.verbose === true),
  });
  const summary = await orchestrator.recoverInterruptedRuns();
  return E.isLeft(summary) ? summary : E.right(summary.right);
};

export const printSummary = (out: Output, s: RecoverySummary) => {
  out.line();
  out.line('Recovery Summary:');
  out.line(`  Detected: ${s.detected}`);
  out.line(`  Recovered: ${s.recovered}`);
  out.line(`  Failed: ${s.failed}`);
  if (s.skipped > 0) out.line(`  Skipped (claimed elsewhere, still alive, or stopping): ${s.skipped}`);
  out.line();
  if (s.detected === 0) out.line('No interrupted runs found');
  else if (s.failed === 0 && s.recovered === 0) out.line('No run was recovered by this process (every one was skipped)');
  else if (s.failed === 0) out.line('All interrupted runs recovered successfully');
  else out.line(`${s.failed} run(s) could not be recovered`);
};

/** Exit code of a recovery: 0 when nothing failed (skipped runs are someone else's), 3 otherwise. */
export const recoveryExitCode = (s: RecoverySummary): number => (s.failed > 0 ? ExitCode.recoveryIncomplete : ExitCode.ok);
