import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import type { Output } from '../output';
import { runCommand, type GlobalArgs } from '../session';
import { detectInterruptedRuns, type InterruptedRun } from '../../api/detectInterruptedRuns';
import { listStrandedRuns } from '../../api/listStrandedRuns';
import { describeStranded } from '../../api/internal/worker';
import { formatDuration } from '../../api/internal/durations';
import {
  recentFailedRuns,
  summarizeUnfinished,
  type RecentFailedRuns,
  type UnfinishedSummary,
} from '../../api/internal/liveness';

/** The spec's block for one interrupted run. */
export const printInterruptedRun = (out: Output, r: InterruptedRun) => {
  out.line(`Run ID: ${r.runId}`);
  out.line(`  Pipeline: ${r.pipelineId}`);
  out.line(`  Started: ${r.startedAt}`);
  out.line(`  Last activity: ${r.lastActivityAt}`);
  out.line(`  Completed steps: ${r.completedSteps}`);
  out.line(`  Failed steps: ${r.failedSteps}`);
  // A DAG's branches: every ready step (one, as the spec shows, for a linear pipeline).
  out.line(`  Next step: ${r.readySteps.length > 0 ? r.readySteps.join(', ') : '(none: every step succeeded)'}`);
  if (r.nextRetryAt !== null) out.line(`  Next retry at: ${r.nextRetryAt}`);
  if (r.status === 'pending') out.line(`  Never claimed: created, but no worker started it`);
  else if (r.owner === null) out.line(`  Released by its worker: yes`);
  else if (r.reason === 'dead') out.line(`  Owner gone: its process (${r.owner}) no longer exists`);
  out.line();
};

/** Why nothing is listed: runs held by live workers, runs waiting out the threshold. */
const printWhyNone = (out: Output, s: UnfinishedSummary, thresholdMs: number) => {
  if (s.leased > 0) out.info(`${s.leased} unfinished run(s) held by live workers (valid lease): being executed, not interrupted`);
  if (s.waiting > 0 && s.nextInMs !== null && s.listingThresholdMs !== null) {
    out.info(
      `${s.waiting} unfinished run(s) with no live owner, waiting out the ${formatDuration(thresholdMs)} threshold: ` +
        `the first is listed in ${formatDuration(Math.max(1000, Math.ceil(s.nextInMs / 1000) * 1000))}, ` +
        `or now with --threshold ${formatDuration(s.listingThresholdMs)}`,
    );
  }
};

/** Failed runs shown one line each; the rest are counted and `orbit runs --status failed` lists them. */
export const FAILED_RUNS_SHOWN = 5;
/** Characters of a failed step's error shown on its run's line. */
const ERROR_CHARS = 100;

const clip = (text: string, max: number): string => {
  const line = text.split('\n')[0] ?? '';
  return line.length > max || line !== text ? `${line.slice(0, max - 1).trimEnd()}…` : line;
};

/** One line per failed run (its first failed step and error), capped: a summary, not every error in full. */
const printFailedRuns = (out: Output, failed: RecentFailedRuns) => {
  if (failed.total === 0) return;
  out.line(`Runs that failed with failed steps (last 24 h): ${failed.total}`);
  const shown = failed.runs.slice(0, FAILED_RUNS_SHOWN);
  for (const r of shown) {
    const [first, ...more] = r.failedSteps;
    const step =
      first === undefined
        ? ''
        : `  ${first.name}: ${clip(first.error ?? 'no error recorded', ERROR_CHARS)}${more.length > 0 ? ` (+${more.length} more failed step(s))` : ''}`;
    out.line(`  ${r.runId}  ${r.pipelineId}  ${r.finishedAt ?? 'unknown'}${step}`);
  }
  if (failed.total > shown.length) out.line(`  … and ${failed.total - shown.length} more`);
  out.line('See each with its error: orbit runs --status failed; one in full: orbit history <runId>');
  out.line('After fixing the cause, retry them with: orbit resume <runId> --retry-failed');
};

export const checkInterruptedCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'check-interrupted',
  describe:
    'List interrupted runs (released, owner process gone, or no valid lease and no activity for longer than the threshold), and recent runs with failed steps; changes nothing',
  handler: (args) =>
    runCommand(args, { pipelines: false }, async ({ client, out }) => {
      out.line('Checking for Interrupted Runs');
      out.line();
      const runs = await detectInterruptedRuns({ client });
      if (E.isLeft(runs)) return runs;
      const failed = await recentFailedRuns(client);
      if (E.isLeft(failed)) return failed;
      const why = runs.right.length === 0 ? await summarizeUnfinished(client) : E.right(undefined);
      if (E.isLeft(why)) return why;
      // Queued runs are not interrupted, but those no live worker can execute would wait forever unseen.
      const stranded = await listStrandedRuns({ client });
      if (E.isLeft(stranded)) return stranded;
      if (out.json) {
        out.document({
          stranded: stranded.right,
          thresholdMs: client.thresholdMs,
          interrupted: runs.right,
          notInterrupted: why.right,
          failed: failed.right.runs,
          failedTotal: failed.right.total,
        });
      }
      if (runs.right.length === 0) {
        out.success('No interrupted runs found');
        if (why.right !== undefined) printWhyNone(out, why.right, client.thresholdMs);
      } else {
        out.line(`Found ${runs.right.length} interrupted run(s):`);
        out.line();
        for (const r of runs.right) printInterruptedRun(out, r);
        out.line('To resume a specific run, use: orbit resume <runId>');
        out.line('To auto-resume all runs, use: orbit recover --auto-resume');
      }
      if (stranded.right.length > 0) {
        out.line();
        out.line('Queued runs no live worker can execute (not interrupted: they start once such a worker runs):');
        for (const st of stranded.right) out.line(`  ${describeStranded(st)}`);
        out.line(
          'Start a worker with that definition of the pipeline (orbit worker --pipelines <its module>), or cancel them: orbit cancel <runId>',
        );
      }
      if (failed.right.total > 0) {
        out.line();
        printFailedRuns(out, failed.right);
      }
      return E.right(ExitCode.ok);
    }),
};
