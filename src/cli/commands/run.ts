import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import type { Output } from '../output';
import { ExitCode } from '../exitCodes';
import { orbitCommand } from '../hints';
import { printProgress } from '../progress';
import { parseMetadataOption, refuseUsage } from '../options';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { installStopSignals } from '../signals';
import { terminalTicker } from '../stepTicker';
import { suspendedHint } from '../suspendedHint';
import type { OrbitClient } from '../../api/connect';

import { parseRunId } from '../../api/internal/arguments';
import { OrbitErrors, type OrbitError } from '../../api/internal/errors';
import { formatDuration, parseDuration } from '../../api/internal/durations';
import { waitForRunEnd } from '../../api/internal/journal';
import { enqueueRunByName, MAX_PRIORITY, runPipelineByName } from '../../api/internal/runByName';

interface RunArgs extends GlobalArgs {
  readonly pipeline: string;
  readonly metadata: string;
  readonly runId?: string;
  readonly queue: boolean;
  readonly wait: boolean;
  readonly at?: string;
  readonly priority?: string;
  readonly dedupKey?: string;
}

/** What `--queue` adds to the enqueue: a due time, a priority, a deduplication key. */
interface QueueControls {
  readonly at?: { readonly runAt: Date } | { readonly delayMs: number };
  readonly priority?: number;
  readonly dedupKey?: string;
}

/** `--priority`: an integer from -1,000,000 to 1,000,000 (higher first). */
const parsePriority = (text: string): E.Either<OrbitError, number> => {
  const t = text.trim();
  const n = Number(t);
  return /^[-+]?\d+$/.test(t) && Math.abs(n) <= MAX_PRIORITY
    ? E.right(n)
    : E.left(
        OrbitErrors.invalidInput(
          '--priority',
          `${JSON.stringify(text)} is not a priority (an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}; higher runs first)`,
        ),
      );
};

/** `--at`: a duration from now (`90s`, `2h`, on the database clock) or an ISO 8601 time with its offset. */
const parseAt = (text: string): E.Either<OrbitError, { readonly runAt: Date } | { readonly delayMs: number }> => {
  const d = parseDuration(text, '--at');
  if (E.isRight(d)) return E.right({ delayMs: d.right });
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim());
  const t = new Date(text.trim());
  if (!iso || !Number.isFinite(t.getTime()))
    return E.left(
      OrbitErrors.invalidInput(
        '--at',
        `${JSON.stringify(text)} is neither a duration (90s, 10m, 2h) nor an ISO time with its offset (2026-12-07T18:00:00Z)`,
      ),
    );
  return E.right({ runAt: t });
};

const queueRun = async (args: RunArgs, metadata: unknown, client: OrbitClient, out: Output, controls: QueueControls) => {
  const { at, priority, dedupKey } = controls;
  const q = await enqueueRunByName(args.pipeline, metadata, {
    client,
    runId: args.runId,
    triggeredBy: 'cli',
    ...at,
    ...(priority === undefined ? {} : { priority }),
    ...(dedupKey === undefined ? {} : { dedupKey }),
  });
  if (E.isLeft(q)) return q;
  const { runId, deduplicated } = q.right;
  const when =
    at === undefined ? '' : 'runAt' in at ? ` due at ${at.runAt.toISOString()}` : ` due in ${formatDuration(at.delayMs)}`;
  const what = deduplicated
    ? `Not queued: run ${runId} (${args.pipeline}) has dedup key ${JSON.stringify(dedupKey)} and has not ended`
    : `Queued run ${runId} (${args.pipeline})${when}${priority === undefined ? '' : ` at priority ${priority}`}`;
  if (!args.wait) {
    if (out.json) out.document({ runId, pipelineId: args.pipeline, status: 'pending', queued: true, deduplicated });
    out.success(`${what}; a worker (orbit worker) will execute it`);
    out.info(`Run ID: ${runId}`);
    return E.right(ExitCode.ok);
  }
  out.line(`${what}; waiting for it to end`);
  const status = await waitForRunEnd(client, runId);
  if (E.isLeft(status)) return status;
  if (out.json) out.document({ runId, pipelineId: args.pipeline, status: status.right, queued: true, deduplicated });
  if (status.right === 'success') out.success(`Run ${runId} succeeded`);
  else out.failure(`Run ${runId} ${status.right}`);
  out.info(`Run ID: ${runId}`);
  return E.right(status.right === 'success' ? ExitCode.ok : ExitCode.error);
};

/**
 * The database failed under a run this process had claimed (past the retry budget): the executor
 * has released the run if the database let it, else the run turns up as interrupted. Either way
 * the one error line says how to carry on.
 */
const withResumeHint = (e: OrbitError, runId: string | undefined): OrbitError =>
  runId !== undefined && (e._tag === 'DatabaseUnavailable' || e._tag === 'DatabaseError')
    ? { ...e, message: `${e.message} (run ${runId} is left for recovery; once the database is back: orbit resume ${runId})` }
    : e;

export const runCmd: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <pipeline>',
  describe: 'Run a registered pipeline from its first step',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline name' })
      .option('metadata', { type: 'string', default: '{}', describe: 'Run input as JSON, e.g. \'{"batchId":"b-7"}\'' })
      .option('run-id', { type: 'string', describe: 'Use this run id instead of a generated one' })
      .option('queue', {
        type: 'boolean',
        default: false,
        describe: 'Put the run on the queue for a worker (orbit worker) instead of executing it here',
      })
      .option('at', {
        type: 'string',
        describe:
          'With --queue: a delayed run, not started before this time: a duration from now (90s, 10m, 2h; database clock) or an ISO time with its offset (2026-12-07T18:00:00Z)',
      })
      .option('priority', {
        type: 'string',
        describe: `With --queue: workers take runs of higher priority first, then the oldest (an integer, -${MAX_PRIORITY} to ${MAX_PRIORITY}; default 0)`,
      })
      .option('dedup-key', {
        type: 'string',
        describe:
          'With --queue: while a run of this pipeline queued with the same key has not ended, print its id and queue nothing',
      })
      .option('wait', {
        type: 'boolean',
        default: false,
        describe: 'With --queue: wait for the run to end and exit with its status',
      })
      .epilogue(
        'On a terminal, a step that runs longer than a second shows a spinner and its elapsed time; piped output has none of it. ' +
          'A run that reaches a sleep or a wait for an event is handed to the workers: one line says until when (or for what), and the exit code is 0.',
      )
      .example('$0 run data-pipeline --queue --wait', 'Queue a run, let a worker execute it, exit 0 when it succeeded')
      .example('$0 run data-pipeline --queue --at 10m', 'Queue a run that a worker starts in ten minutes (database clock)')
      .example('$0 run data-pipeline --queue --priority 10', 'Queue a run that workers take before runs of priority 0')
      .example(
        '$0 run data-pipeline --queue --dedup-key sync-42',
        'Queue a run unless one queued with key sync-42 is still pending or running (then print that run)',
      )
      .example('$0 run data-pipeline --metadata \'{"batchId":"b-7"}\'', 'Run data-pipeline with metadata')
      .example(
        '$0 run order-approval --metadata \'{"orderId":"o-42"}\'',
        'A pipeline with a sleep or a wait: run it up to there, print until when (or for what), exit 0; a worker continues it',
      ),
  handler: async (args) => {
    const metadata = parseMetadataOption(args.metadata);
    // Refused before touching the database.
    if (E.isLeft(metadata)) return refuseUsage(args, metadata.left);
    if (args.runId !== undefined) {
      const id = parseRunId(args.runId);
      if (E.isLeft(id)) return refuse(args, id.left);
    }
    let at: { readonly runAt: Date } | { readonly delayMs: number } | undefined;
    if (args.at !== undefined) {
      if (!args.queue)
        return refuseUsage(args, OrbitErrors.invalidInput('--at', '--at needs --queue (a worker starts the run at that time)'));
      const parsed = parseAt(args.at);
      if (E.isLeft(parsed)) return refuseUsage(args, parsed.left);
      at = parsed.right;
    }
    let priority: number | undefined;
    if (args.priority !== undefined) {
      if (!args.queue)
        return refuseUsage(args, OrbitErrors.invalidInput('--priority', '--priority needs --queue (it orders the queue)'));
      const parsed = parsePriority(String(args.priority));
      if (E.isLeft(parsed)) return refuseUsage(args, parsed.left);
      priority = parsed.right;
    }
    const dedupKey = args.dedupKey === undefined ? undefined : String(args.dedupKey);
    if (dedupKey !== undefined) {
      if (!args.queue)
        return refuseUsage(args, OrbitErrors.invalidInput('--dedup-key', '--dedup-key needs --queue (it deduplicates enqueues)'));
      if (dedupKey.length === 0 || dedupKey.length > 256)
        return refuseUsage(args, OrbitErrors.invalidInput('--dedup-key', 'a dedup key is 1 to 256 characters'));
    }
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      if (args.queue) return queueRun(args, metadata.right, client, out, { at, priority, dedupKey });
      // A long step shows it is running, on a terminal only: piped output stays as it was.
      const ticker = terminalTicker(!out.json);
      // A signal's note starts on a clean line, not after the running line.
      const signals = installStopSignals((text) => {
        ticker.stop();
        out.note(text);
      });
      let claimedRunId: string | undefined;
      try {
        const r = await runPipelineByName(args.pipeline, metadata.right, {
          client,
          runId: args.runId,
          triggeredBy: 'cli',
          onClaimed: (runId) => {
            claimedRunId = runId;
            out.line(`Running pipeline ${out.bold(args.pipeline)} ${out.dim(`(run ${runId})`)}`);
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
        if (E.isLeft(r)) return E.left(withResumeHint(r.left, claimedRunId));
        const run = r.right;
        // A run that sleeps or waits was let go on purpose (run.suspended): a worker continues it.
        const suspended = run.suspended ?? undefined;
        if (out.json)
          out.document({
            runId: run.runId,
            pipelineId: run.pipelineId,
            status: run.status,
            released: run.released,
            ...(suspended === undefined ? {} : { suspended }),
            stepsExecuted: run.stepsExecuted,
            error: run.error,
          });
        out.line();
        if (suspended !== undefined) {
          out.info(suspendedHint(args, run.runId, suspended));
          return E.right(ExitCode.ok);
        }
        if (run.released)
          out.info(`Run ${run.runId} released before it finished; resume it with: ${orbitCommand(args, 'resume', run.runId)}`);
        else if (run.status === 'success') out.success(`Run ${run.runId} succeeded`);
        else out.failure(`Run ${run.runId} ${run.status}: ${run.error ?? ''}`);
        out.info(`Run ID: ${run.runId}`);
        // Released on SIGINT/SIGTERM (one signal or two): the run did not end, say so to the caller
        // (shell, supervisor) with 130, like any interrupted command.
        if (run.released) return E.right(ExitCode.interrupted);
        return E.right(run.status === 'success' ? ExitCode.ok : ExitCode.error);
      } finally {
        ticker.stop();
        signals.dispose();
      }
    });
  },
};
