import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { orbitCommand } from '../hints';
import { printProgress } from '../progress';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { installStopSignals } from '../signals';
import { terminalTicker } from '../stepTicker';
import { suspendedHint } from '../suspendedHint';
import { enqueueFork } from '../../api/enqueueFork';
import { forkRun } from '../../api/forkRun';
import { parseRunId } from '../../api/internal/arguments';

interface ForkArgs extends GlobalArgs {
  readonly runId: string;
  readonly fromStep: string;
  readonly newRunId?: string;
  readonly queue: boolean;
}

export const forkCommand: CommandModule<GlobalArgs, ForkArgs> = {
  command: 'fork <runId>',
  describe:
    'Start a new run of a finished run (same pipeline and metadata) from one of its steps: earlier steps keep their journaled results, that step and everything after it run again',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('runId', {
        type: 'string',
        demandOption: true,
        describe: 'The finished run (succeeded, failed or cancelled) to fork',
      })
      .option('from-step', {
        type: 'string',
        demandOption: true,
        describe:
          'The step to run again: it and every step downstream of it run; every other step that succeeded keeps its result (its handler is not called)',
      })
      .option('new-run-id', { type: 'string', describe: 'Use this id for the new run instead of a generated one' })
      .option('queue', {
        type: 'boolean',
        default: false,
        describe: 'Put the new run on the queue for a worker (orbit worker) instead of running it in this process',
      })
      .epilogue(
        'The new run is executed in this process (with --queue: by a worker) and journals where it came from (run.created forkedFrom, one step.reused per reused step). ' +
          'Refused: an unknown run or step, a run still pending or running (interrupted included: resume or cancel it first), ' +
          'a pipeline whose definition changed since the run. See docs/PIPELINES.md, "Forking a run".',
      )
      .example('$0 fork run_lx2k9f0a3b7c1d2e4f --from-step transform', 'Run transform and what follows it again, reusing extract')
      .example(
        '$0 fork run_lx2k9f0a3b7c1d2e4f --from-step transform --queue',
        'The same, executed by a worker',
      ) as unknown as Argv<ForkArgs>,
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    if (args.newRunId !== undefined) {
      const nid = parseRunId(args.newRunId);
      if (E.isLeft(nid)) return refuse(args, nid.left);
    }
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      if (args.queue) {
        const q = await enqueueFork(args.runId, {
          client,
          fromStep: args.fromStep,
          runId: args.newRunId,
          triggeredBy: 'cli',
        });
        if (E.isLeft(q)) return q;
        const f = q.right;
        if (out.json) out.document({ ...f, status: 'pending', queued: true });
        out.success(
          `Queued run ${f.runId}, forked from ${args.runId} at step ${out.bold(args.fromStep)}; a worker (orbit worker) will execute it`,
        );
        out.info(`Reused from ${args.runId}: ${f.reused.length === 0 ? '(none)' : f.reused.join(', ')}`);
        out.info(`Run ID: ${f.runId}`);
        return E.right(ExitCode.ok);
      }
      const ticker = terminalTicker(!out.json);
      const signals = installStopSignals((text) => {
        ticker.stop();
        out.note(text);
      });
      try {
        const r = await forkRun(args.runId, {
          client,
          fromStep: args.fromStep,
          runId: args.newRunId,
          triggeredBy: 'cli',
          onClaimed: (runId) => {
            out.line(`Forked run ${args.runId} from step ${out.bold(args.fromStep)} ${out.dim(`(new run ${runId})`)}`);
            out.line();
          },
          onStepStart: (s) => ticker.start(s.stepName, s.attempt),
          onProgress: (p) => {
            ticker.stop();
            printProgress(out)(p);
          },
          stopSignal: signals.stopSignal,
          abortSignal: signals.abortSignal,
        });
        ticker.stop();
        if (E.isLeft(r)) return r;
        const run = r.right;
        if (out.json)
          out.document({
            runId: run.runId,
            pipelineId: run.pipelineId,
            forkedFrom: run.forkedFrom,
            reused: run.reused,
            rerun: run.rerun,
            status: run.status,
            released: run.released,
            ...(run.suspended === null ? {} : { suspended: run.suspended }),
            stepsExecuted: run.stepsExecuted,
            error: run.error,
          });
        out.line();
        out.info(`Reused from ${args.runId}: ${run.reused.length === 0 ? '(none)' : run.reused.join(', ')}`);
        if (run.suspended !== null) {
          out.info(suspendedHint(args, run.runId, run.suspended));
          return E.right(ExitCode.ok);
        }
        if (run.released)
          out.info(`Run ${run.runId} released before it finished; resume it with: ${orbitCommand(args, 'resume', run.runId)}`);
        else if (run.status === 'success') out.success(`Run ${run.runId} succeeded`);
        else out.failure(`Run ${run.runId} ${run.status}: ${run.error ?? ''}`);
        out.info(`Run ID: ${run.runId}`);
        if (run.released) return E.right(ExitCode.interrupted);
        return E.right(run.status === 'success' ? ExitCode.ok : ExitCode.error);
      } finally {
        ticker.stop();
        signals.dispose();
      }
    });
  },
};
