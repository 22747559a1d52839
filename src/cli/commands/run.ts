import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { runPipeline } from '../../executor/runPipeline';
import { parseRunId } from '../../executor/runId';
import { ExitCode } from '../exitCodes';
import { printProgress } from '../progress';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { installStopSignals } from '../signals';

interface RunArgs extends GlobalArgs {
  readonly pipeline: string;
  readonly metadata: string;
  readonly runId?: string;
}

export const parseMetadata = (text: string): E.Either<import('../../errors').OrbitError, unknown> => {
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (err) {
    return E.left({
      _tag: 'InvalidInput',
      what: '--metadata',
      message: `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    });
  }
};

export const runCmd: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <pipeline>',
  describe: 'Run a registered pipeline from its first step',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline name' })
      .option('metadata', { type: 'string', default: '{}', describe: 'Run input as JSON, e.g. \'{"batchId":"b-7"}\'' })
      .option('run-id', { type: 'string', describe: 'Use this run id instead of a generated one' })
      .example('$0 run data-pipeline --metadata \'{"batchId":"b-7"}\'', 'Run data-pipeline with metadata'),
  handler: async (args) => {
    const metadata = parseMetadata(args.metadata);
    // Refused before touching the database.
    if (E.isLeft(metadata)) return refuse(args, metadata.left);
    if (args.runId !== undefined) {
      const id = parseRunId(args.runId);
      if (E.isLeft(id)) return refuse(args, id.left);
    }
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      const signals = installStopSignals(out.note);
      try {
        const r = await runPipeline(args.pipeline, metadata.right, {
          client,
          runId: args.runId,
          triggeredBy: 'cli',
          onClaimed: (runId) => {
            out.line(`Running pipeline ${out.bold(args.pipeline)} ${out.dim(`(run ${runId})`)}`);
            out.line();
          },
          onProgress: printProgress(out),
          stopSignal: signals.stopSignal,
          abortSignal: signals.abortSignal,
        });
        if (E.isLeft(r)) return r;
        const run = r.right;
        if (out.json)
          out.document({
            runId: run.runId,
            pipelineId: run.pipelineId,
            status: run.status,
            released: run.released,
            stepsExecuted: run.stepsExecuted,
            error: run.error,
          });
        out.line();
        if (run.released) out.info(`Run ${run.runId} released before it finished; resume it with: orbit resume ${run.runId}`);
        else if (run.status === 'success') out.success(`Run ${run.runId} succeeded`);
        else out.failure(`Run ${run.runId} ${run.status}: ${run.error ?? ''}`);
        out.info(`Run ID: ${run.runId}`);
        return E.right(run.status === 'success' || run.released ? ExitCode.ok : ExitCode.error);
      } finally {
        signals.dispose();
      }
    });
  },
};
