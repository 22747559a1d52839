import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import type { RunStatus } from '../../fold/runState';
import { listRuns } from '../../projections/listRuns';
import { ExitCode } from '../exitCodes';
import { MAX_LIMIT, parseCount, refuseUsage } from '../options';
import { runCommand, type GlobalArgs } from '../session';

interface RunsArgs extends GlobalArgs {
  readonly status?: RunStatus;
  readonly pipeline?: string;
  readonly limit: string;
}

export const runsCommand: CommandModule<GlobalArgs, RunsArgs> = {
  command: 'runs',
  describe: 'List the newest runs, e.g. every failed run (--status failed)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('status', {
        choices: ['pending', 'running', 'success', 'failed', 'cancelled'] as const,
        describe: 'Only runs in this status',
      })
      .option('pipeline', { type: 'string', describe: 'Only runs of this pipeline' })
      .option('limit', { type: 'string', default: '20', describe: `At most this many, newest first (1 to ${MAX_LIMIT})` })
      .example('$0 runs --status failed', 'Runs that failed, newest first'),
  handler: (args) => {
    const limit = parseCount(args.limit, '--limit', MAX_LIMIT);
    if (E.isLeft(limit)) return refuseUsage(args, limit.left);
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const runs = await listRuns(client.db, { status: args.status, pipelineId: args.pipeline, limit: limit.right });
      if (E.isLeft(runs)) return runs;
      if (out.json) {
        out.document(runs.right);
        return E.right(ExitCode.ok);
      }
      if (runs.right.length === 0) {
        out.line('No runs found');
        return E.right(ExitCode.ok);
      }
      for (const r of runs.right) {
        out.line(
          `${r.runId}  ${r.pipelineId}  ${r.status}  steps ${r.stepsSucceeded}/${r.stepsTotal}  started ${r.startedAt}${r.finishedAt ? `  finished ${r.finishedAt}` : ''}`,
        );
        if (r.error) out.line(`  ${out.dim(r.error)}`);
      }
      return E.right(ExitCode.ok);
    });
  },
};
