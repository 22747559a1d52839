import { spawn } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { readIsolatedResult, writeIsolatedResult } from '../isolatedResult';
import { ExitCode } from '../exitCodes';
import { orbitCommand } from '../hints';
import { refuse, runCommand, type GlobalArgs, type Session } from '../session';
import { installStopSignals } from '../signals';
import { suspendedHint } from '../suspendedHint';
import { printProgress } from '../progress';
import type { InterruptedRun } from '../../api/detectInterruptedRuns';
import { parseRunId } from '../../api/internal/arguments';
import { OrbitErrors, type OrbitError } from '../../api/internal/errors';
import { runLiveness } from '../../api/internal/liveness';
import { outcomeOf } from '../../api/internal/worker';
import { resumeRun } from '../../api/resumeRun';
import type { RecoveryOutcome } from '../../api/runRecoveryOrchestrator';

interface ResumeArgs extends GlobalArgs {
  readonly runId: string;
  readonly retryFailed: boolean;
  readonly force: boolean;
  readonly verbose: boolean;
  /** Hidden: an isolated resume's result document goes to this file descriptor (the parent's pipe). */
  readonly resultFd?: number;
  /** Hidden: the worker this isolated resume is done for (journaled as `requestedBy`). */
  readonly requestedBy?: string;
  /** Hidden: the requesting worker's reason (journaled in `run.resumed`). */
  readonly reason?: string;
}

/** The child's pipe for its result document (stdin, stdout, stderr, then this). */
const RESULT_FD = 3;

export const resumeCommand: CommandModule<GlobalArgs, ResumeArgs> = {
  command: 'resume <runId>',
  describe: 'Resume one interrupted run from its next step (succeeded steps never run again)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('runId', { type: 'string', demandOption: true, describe: 'The run to resume' })
      .option('retry-failed', {
        type: 'boolean',
        default: false,
        describe: 'Also re-execute steps that failed for good (after you fixed the cause); journaled',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe:
          'Resume even if the pipeline definition changed or the run is held by a live worker (its running step may run twice; the old owner is fenced)',
      })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Print each step as it finishes' })
      // How `orbit worker` and `orbit recover` run an isolated resume (a child process of their own).
      .option('result-fd', { type: 'number', hidden: true })
      .option('requested-by', { type: 'string', hidden: true })
      .option('reason', { type: 'string', hidden: true })
      .example('$0 resume run_lx2k9f0a3b7c1d2e4f', 'Resume one run') as unknown as Argv<ResumeArgs>,
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    const { resultFd } = args;
    const report =
      resultFd === undefined ? undefined : (doc: Parameters<typeof writeIsolatedResult>[1]) => writeIsolatedResult(resultFd, doc);
    const onFailure = report && ((error: OrbitError) => report({ runId: args.runId, error }));
    return runCommand(args, { pipelines: true, onFailure }, async ({ client, out }) => {
      // The header comes with the first thing the resume has to say, never before a refusal.
      let headed = false;
      const header = () => {
        if (headed) return;
        headed = true;
        out.line(`Resuming Run: ${args.runId}`);
        out.line();
      };
      if (args.force) {
        // Taking a run from a live owner is the one way a step can run twice at once: say so.
        const live = await runLiveness(client, args.runId);
        if (E.isRight(live) && !live.right.interrupted && live.right.owner !== null) {
          const held = live.right.leaseUntil !== null ? `holds a valid lease until ${live.right.leaseUntil}` : 'is still active';
          out.note(
            `WARNING: --force takes run ${args.runId} over from worker ${live.right.owner}, which ${held}. ` +
              'Its running step may execute twice at the same time; its next journal write will be refused (fenced).',
          );
        }
      }
      const signals = installStopSignals(out.note);
      try {
        const r = await resumeRun(args.runId, {
          client,
          retryFailed: args.retryFailed,
          force: args.force,
          reason: args.reason ?? (args.retryFailed ? 'manual resume with --retry-failed' : 'manual resume'),
          requestedBy: args.requestedBy,
          onProgress: args.verbose
            ? (p) => {
                header();
                printProgress(out)(p);
              }
            : undefined,
          stopSignal: signals.stopSignal,
          abortSignal: signals.abortSignal,
        });
        if (E.isLeft(r)) return E.left(r.left);
        const v = r.right;
        report?.({ runId: args.runId, result: v });
        if (out.json) out.document(v);
        header();
        // A resume that ends any other way than success or a release is a Left (RunFailed).
        if (v.released)
          out.info(`Run ${v.runId} released before it finished; resume it again with: ${orbitCommand(args, 'resume', v.runId)}`);
        else if (v.suspended !== null) out.info(suspendedHint(args, v.runId, v.suspended));
        else out.success(`Run ${v.runId} resumed successfully`);
        out.info(`Steps executed: ${v.stepsExecuted}`);
        // Released: the run did not end (SIGINT/SIGTERM, or a lost lease): 130, like `orbit run`.
        return E.right(v.released ? ExitCode.interrupted : ExitCode.ok);
      } finally {
        signals.dispose();
      }
    });
  },
};

/**
 * `isolate` for the orchestrator and the worker: resumes a run that was already taken over in a
 * child `orbit resume` process of its own, so that a step killing its process kills only that
 * child, and the death is charged to that run alone. The child gets every setting this process
 * resolved (database URL, schema, data dir, pipelines module, threshold, lease, retry budget,
 * commit slots), executes the run under its own lease (it is the run's owner: liveness stays
 * exact) and journals the resume as done for this process (`requestedBy`) with `reason`. It
 * reports its result as a JSON document on a pipe of its own (fd 3); its human output is not read.
 */
export const isolatedResume =
  (session: Session, cli = process.argv[1] ?? '') =>
  (run: InterruptedRun, reason: string): Promise<RecoveryOutcome> =>
    new Promise((resolve) => {
      const { client, settings } = session;
      const argv = [
        cli,
        '--schema',
        client.schema,
        ...(settings.dataDir.value !== undefined ? ['--data-dir', settings.dataDir.value] : []),
        ...(settings.pipelines.value !== undefined ? ['--pipelines', path.resolve(settings.pipelines.value)] : []),
        '--threshold',
        `${client.thresholdMs}ms`,
        'resume',
        run.runId,
        '--result-fd',
        String(RESULT_FD),
        '--requested-by',
        client.workerId,
        '--reason',
        reason,
      ];
      // The URL goes through the environment, not argv: other users can read a command line.
      const env = {
        ...process.env,
        DATABASE_URL: client.databaseUrl,
        ORBIT_LEASE: `${client.leaseMs}ms`,
        ORBIT_RETRY_BUDGET_MS: String(client.retryBudgetMs),
        ORBIT_APPEND_SLOTS: String(client.appendSlots),
        ORBIT_MAX_RESULT_BYTES: String(client.maxResultBytes),
      };
      const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
      let document = '';
      let stderr = '';
      const pipe = child.stdio[RESULT_FD];
      if (pipe instanceof Readable) pipe.setEncoding('utf8').on('data', (d: string) => (document += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('close', (code, signal) => {
        const result = readIsolatedResult(document, run.runId);
        if (E.isRight(result)) return resolve(outcomeOf(run, result.right));
        // No result: the child died (a step may be what kills its worker) or could not start.
        const said = stderr.trim().split('\n').pop() ?? '';
        const message =
          signal !== null
            ? `resumed in a process of its own, which died (${signal}): a step may be killing its worker`
            : `resumed in a process of its own, which exited with code ${String(code)} and ${result.left}${said !== '' ? ` (${said})` : ''}`;
        resolve({
          runId: run.runId,
          pipelineId: run.pipelineId,
          outcome: 'failed',
          error: OrbitErrors.runFailed(run.runId, 'running', message),
          message,
        });
      });
    });
