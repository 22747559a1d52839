import * as E from 'fp-ts/Either';
import { ExitCode } from './exitCodes';
import { bufferedOutput, type Output } from './output';
import { printProgress } from './progress';
import { describeWait } from '../api/loadRunState';
import type { OrbitClient } from '../api/connect';
import type { OrbitError } from '../api/internal/errors';
import {
  RunRecoveryOrchestrator,
  type OrchestratorOptions,
  type RecoveryEvent,
  type RecoverySummary,
} from '../api/runRecoveryOrchestrator';

/**
 * The spec's lines for each recovery event ("Attempting to recover run …", "✓ Recovered run …").
 * Runs recovered at the same time would interleave: each run's lines are held and printed as one
 * block when its outcome is known, so the output reads like the spec's transcript at any concurrency.
 */
export const printRecoveryEvent = (
  out: Output,
  verbose: boolean,
  // A worker's wake-up of a sleeping or waiting run is not a recovery (src/cli/wokenRuns.ts).
  woken: (e: RecoveryEvent) => boolean = () => false,
): ((e: RecoveryEvent) => void) => {
  const blocks = new Map<string, ReturnType<typeof bufferedOutput>>();
  const forRun = (runId: string): Output => blocks.get(runId)?.out ?? out;
  return (e) => {
    if (e.kind === 'attempt') {
      const b = bufferedOutput(out);
      blocks.set(e.run.runId, b);
      b.out.line(`Attempting to recover run ${e.run.runId} (${e.run.pipelineId})...`);
    } else if (e.kind === 'step') {
      if (verbose) printProgress(forRun(e.progress.runId))(e.progress);
    } else {
      const o = e.outcome;
      const o2 = forRun(o.runId);
      const wake = woken(e);
      if (o.outcome === 'recovered') {
        const done = `${wake ? 'Woke' : 'Recovered'} run ${o.runId}, executed ${o.result.stepsExecuted} step(s)`;
        // Suspended again (a later sleep or wait): say on what, not "recovered" as if it had ended.
        if (o.result.suspended !== null) o2.info(`${done}; it is ${describeWait(o.result.suspended)}`);
        else if (wake) o2.success(`${done}: ${o.result.status}`);
        else o2.success(done);
      } else if (o.outcome === 'skipped') o2.info(`Run ${o.runId} skipped: ${o.reason}`);
      // Never an empty reason: a failure nobody can explain still says so.
      else
        o2.failure(
          `Failed to ${wake ? 'wake' : 'recover'} run ${o.runId}: ${o.message.trim() !== '' ? o.message : `no reason was reported (${o.error._tag})`}`,
        );
      blocks.get(o.runId)?.flush();
      blocks.delete(o.runId);
    }
  };
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
  return new RunRecoveryOrchestrator({
    client,
    concurrency: opts.concurrency,
    limit: opts.limit,
    stopSignal: opts.stopSignal,
    abortSignal: opts.abortSignal,
    isolate: opts.isolate,
    onEvent: printRecoveryEvent(out, opts.verbose === true),
  }).recoverInterruptedRuns();
};

/** `leadingBlank: false` when the line before is already blank (nothing was detected). */
export const printSummary = (out: Output, s: RecoverySummary, leadingBlank = true) => {
  if (leadingBlank) out.line();
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

/**
 * Exit code of a recovery: 130 when SIGINT/SIGTERM stopped it (runs released or not attempted:
 * still recoverable), else 0 when nothing failed (skipped runs are someone else's), 3 otherwise.
 */
export const recoveryExitCode = (s: RecoverySummary, stopped = false): number =>
  stopped ? ExitCode.interrupted : s.failed > 0 ? ExitCode.recoveryIncomplete : ExitCode.ok;
