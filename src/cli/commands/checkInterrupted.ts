import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { detectInterruptedRuns, type InterruptedRun } from '../../recovery/detectInterruptedRuns';
import { ExitCode } from '../exitCodes';
import type { Output } from '../output';
import { runCommand, type GlobalArgs } from '../session';

/** The spec's block for one interrupted run. */
export const printInterruptedRun = (out: Output, r: InterruptedRun) => {
  out.line(`Run ID: ${r.runId}`);
  out.line(`  Pipeline: ${r.pipelineId}`);
  out.line(`  Started: ${r.startedAt}`);
  out.line(`  Last activity: ${r.lastActivityAt}`);
  out.line(`  Completed steps: ${r.completedSteps}`);
  out.line(`  Failed steps: ${r.failedSteps}`);
  out.line(`  Next step: ${r.nextStep ?? '(none: every step succeeded)'}`);
  if (r.nextRetryAt !== null) out.line(`  Next retry at: ${r.nextRetryAt}`);
  if (r.status === 'pending') out.line(`  Never claimed: created, but no worker started it`);
  else if (r.owner === null) out.line(`  Released by its worker: yes`);
  out.line();
};

export const checkInterruptedCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'check-interrupted',
  describe: 'List running runs with no activity (journal event or heartbeat) for longer than the threshold; changes nothing',
  handler: (args) =>
    runCommand(args, { pipelines: false }, async ({ client, out }) => {
      out.line('Checking for Interrupted Runs');
      out.line();
      const runs = await detectInterruptedRuns({ client });
      if (E.isLeft(runs)) return runs;
      if (out.json) out.document({ thresholdMs: client.thresholdMs, interrupted: runs.right });
      if (runs.right.length === 0) {
        out.success('No interrupted runs found');
        return E.right(ExitCode.ok);
      }
      out.line(`Found ${runs.right.length} interrupted run(s):`);
      out.line();
      for (const r of runs.right) printInterruptedRun(out, r);
      out.line('To resume a specific run, use: orbit resume <runId>');
      out.line('To auto-resume all runs, use: orbit recover --auto-resume');
      return E.right(ExitCode.ok);
    }),
};
