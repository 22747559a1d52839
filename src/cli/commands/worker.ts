import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { RecoveryWorker } from '../../recovery/recoveryWorker';
import { formatDuration, parseDuration } from '../../runtime/duration';
import { formatError } from '../../errors';
import { ExitCode } from '../exitCodes';
import { printRecoveryEvent } from '../recoveryReport';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { installStopSignals } from '../signals';

interface WorkerArgs extends GlobalArgs {
  readonly sweepInterval?: string;
  readonly concurrency: number;
  readonly verbose: boolean;
}

export const workerCommand: CommandModule<GlobalArgs, WorkerArgs> = {
  command: 'worker',
  describe: 'Keep recovering: resume released runs the moment they are released (LISTEN/NOTIFY), and sweep for crashed ones',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('sweep-interval', {
        type: 'string',
        describe: 'How often to look for runs whose worker died silently (default: threshold/2, at most 1m)',
      })
      .option('concurrency', { type: 'number', default: 4, describe: 'Runs resumed at the same time by a sweep' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Print each step as it finishes' })
      .example('$0 worker --threshold 2m', 'Recover continuously; crashed runs are found within about 3 minutes'),
  handler: (args) => {
    let sweepIntervalMs: number | undefined;
    if (args.sweepInterval !== undefined) {
      const d = parseDuration(args.sweepInterval, '--sweep-interval');
      if (E.isLeft(d)) return refuse(args, d.left);
      sweepIntervalMs = d.right;
    }
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      const signals = installStopSignals(out.note);
      const print = printRecoveryEvent(out, args.verbose);
      const worker = new RecoveryWorker({
        client,
        sweepIntervalMs,
        concurrency: args.concurrency,
        stopSignal: signals.stopSignal,
        abortSignal: signals.abortSignal,
        onEvent: (e) => {
          if (e.kind === 'notified') out.line(`Run ${e.runId} was released; resuming it`);
          else if (e.kind === 'sweep')
            out.line(
              `Sweep: ${e.summary.detected} interrupted, ${e.summary.recovered} recovered, ${e.summary.failed} failed, ${e.summary.skipped} skipped`,
            );
          else if (e.kind === 'sweep-failed') out.failure(`Sweep failed: ${formatError(e.error)}`);
          else print(e);
        },
      });
      const started = await worker.start();
      if (E.isLeft(started)) return started;
      out.line(
        `Recovery worker ${client.workerId} listening on ${client.db.channel} (threshold ${formatDuration(client.thresholdMs)}, sweep every ${formatDuration(worker.sweepIntervalMs)}); Ctrl+C to stop`,
      );
      await new Promise<void>((resolve) => signals.stopSignal.addEventListener('abort', () => resolve(), { once: true }));
      await worker.stop();
      signals.dispose();
      out.line('Recovery worker stopped');
      return E.right(ExitCode.ok);
    });
  },
};
