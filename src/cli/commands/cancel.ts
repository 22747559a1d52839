import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { cancelRun } from '../../api/cancelRun';
import { parseRunId } from '../../api/internal/arguments';

interface CancelArgs extends GlobalArgs {
  readonly runId: string;
  readonly reason: string;
}

export const cancelCommand: CommandModule<GlobalArgs, CancelArgs> = {
  command: 'cancel <runId>',
  describe: "Cancel a pending or running run (its current step's signal fires; no further step starts)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('runId', { type: 'string', demandOption: true })
      .option('reason', { type: 'string', default: 'cancelled from the CLI', describe: 'Why (journaled)' }),
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const r = await cancelRun(args.runId, { client, reason: args.reason });
      if (E.isLeft(r)) return r;
      if (out.json) out.document({ runId: args.runId, status: r.right.status, seq: r.right.lastSeq });
      else out.success(`Run ${args.runId} cancelled`);
      return E.right(ExitCode.ok);
    });
  },
};
