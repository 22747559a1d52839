import { spawn } from 'node:child_process';
import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { parseRunId } from '../../executor/runId';
import { runLiveness } from '../../recovery/liveness';
import type { InterruptedRun } from '../../recovery/detectInterruptedRuns';
import type { RecoveryOutcome } from '../../recovery/orchestrator';
import { resumeRun, type ResumeSuccess } from '../../recovery/resumeRun';
import { formatDuration } from '../../runtime/duration';
import type { OrbitClient } from '../../runtime/orbitClient';
import { ExitCode } from '../exitCodes';
import { orbitCommand } from '../hints';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { installStopSignals } from '../signals';
import { printProgress } from '../progress';

interface ResumeArgs extends GlobalArgs {
  readonly runId: string;
  readonly retryFailed: boolean;
  readonly force: boolean;
  readonly verbose: boolean;
}

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
      .example('$0 resume run_lx2k9f0a3b7c1d2e4f', 'Resume one run') as unknown as Argv<ResumeArgs>,
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
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
        const live = await runLiveness(client.db, args.runId, client.thresholdMs);
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
          reason: args.retryFailed ? 'manual resume with --retry-failed' : 'manual resume',
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
        if (out.json) out.document(v);
        header();
        // A resume that ends any other way than success or a release is a Left (RunFailed).
        if (v.released)
          out.info(`Run ${v.runId} released before it finished; resume it again with: ${orbitCommand(args, 'resume', v.runId)}`);
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
 * child, and the death is charged to that run alone.
 */
export const isolatedResume =
  (args: GlobalArgs, client: OrbitClient, thresholdMs: number) =>
  (run: InterruptedRun): Promise<RecoveryOutcome> =>
    new Promise((resolve) => {
      const argv = [
        process.argv[1] ?? '',
        ...(args.databaseUrl !== undefined ? ['--database-url', args.databaseUrl] : []),
        '--schema',
        client.db.schema,
        ...(args.pipelines !== undefined ? ['--pipelines', args.pipelines] : []),
        '--threshold',
        formatDuration(thresholdMs),
        '--json',
        'resume',
        run.runId,
      ];
      const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const base = { runId: run.runId, pipelineId: run.pipelineId };
      child.once('close', (code, signal) => {
        // 130: the child was stopped by a signal and released the run; its document says so.
        if (code === ExitCode.ok || code === ExitCode.interrupted) {
          try {
            const result = JSON.parse(stdout) as ResumeSuccess;
            resolve(
              result.released
                ? { ...base, outcome: 'skipped', reason: 'released unfinished (shutting down)' }
                : { ...base, outcome: 'recovered', result },
            );
            return;
          } catch {
            // Fall through: report what the child said.
          }
        }
        const said =
          stderr
            .trim()
            .split('\n')
            .pop()
            ?.replace(/^Error: /, '') ?? '';
        if (/already claimed|is being executed|is not interrupted/.test(said)) {
          resolve({ ...base, outcome: 'skipped', reason: 'claimed by another process' });
          return;
        }
        // Another recoverer finished it while the child started (a lost race, not a failure: a
        // failure would make the worker sweep again at once and start yet another child).
        if (/cannot be resumed: it (already succeeded|was cancelled)/.test(said)) {
          resolve({ ...base, outcome: 'skipped', reason: 'ended by another process' });
          return;
        }
        const message =
          signal !== null ? `resumed in a process of its own, which died (${signal}): a step may be killing its worker` : said;
        resolve({
          ...base,
          outcome: 'failed',
          error: { _tag: 'RunFailed', runId: run.runId, status: 'running', reason: message },
          message,
        });
      });
    });
