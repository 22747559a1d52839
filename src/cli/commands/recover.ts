import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { MAX_CONCURRENCY, MAX_LIMIT, parseCount, refuseUsage } from '../options';
import { runCommand, type GlobalArgs, type Session } from '../session';
import { installStopSignals } from '../signals';
import { printInterruptedRun } from './checkInterrupted';
import { isolatedResume } from './resume';
import { printSummary, recoverAll, recoveryExitCode } from '../recoveryReport';
import { detectInterruptedRuns } from '../../api/detectInterruptedRuns';
import type { OrbitError } from '../../api/internal/errors';
import { planRecovery } from '../../api/planRecovery';
import { reserveTakeover } from '../../api/internal/worker';

interface RecoverArgs extends GlobalArgs {
  readonly autoResume: boolean;
  readonly dryRun: boolean;
  readonly concurrency: string;
  readonly limit: string;
  readonly verbose: boolean;
}

/** The plan (planRecovery): every check and decision a resume would make, and nothing claimed or written. */
const dryRun = async ({ client, out }: Session, limit: number): Promise<E.Either<OrbitError, number>> => {
  const planned = await planRecovery({ client, limit });
  if (E.isLeft(planned)) return planned;
  const plan = planned.right;
  if (out.json) {
    out.document({ dryRun: true, plan });
    return E.right(ExitCode.ok);
  }
  out.line(`Dry run: ${plan.length} interrupted run(s); nothing was claimed or written.`);
  out.line();
  for (const p of plan) {
    out.line(`Run ${p.runId} (${p.pipelineId})`);
    if (p.refusal !== null) {
      out.line(`  Would be refused: ${p.refusal}`);
      continue;
    }
    // A DAG resumes every ready branch at once; a linear pipeline has one.
    out.line(
      `  Would resume from: ${p.readySteps.length > 0 ? p.readySteps.join(', ') : '(nothing left: would be marked succeeded)'}`,
    );
    if (p.reExecuted.length > 0) out.line(`  In-flight step(s) that would run again: ${p.reExecuted.join(', ')}`);
    if (p.retrying.length > 0) {
      out.line(
        `  Waiting for a retry: ${p.retrying.map((x) => `${x.name} (attempt ${x.nextAttempt} at ${x.nextRetryAt ?? 'once due'})`).join(', ')}`,
      );
    }
  }
  return E.right(ExitCode.ok);
};

export const recoverCommand: CommandModule<GlobalArgs, RecoverArgs> = {
  command: 'recover',
  describe: 'Detect interrupted runs; with --auto-resume, resume them all',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('auto-resume', {
        type: 'boolean',
        default: false,
        describe: 'Resume every interrupted run (without it: report only)',
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Print the plan (runs, from which step, which in-flight steps run again) without claiming anything',
      })
      .option('concurrency', {
        type: 'string',
        default: '4',
        describe: `Runs resumed at the same time (1 to ${MAX_CONCURRENCY})`,
      })
      .option('limit', { type: 'string', default: '1000', describe: `At most this many runs per call (1 to ${MAX_LIMIT})` })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Print each step as it finishes' })
      .example(
        '$0 recover --auto-resume',
        'Recover every interrupted run (cron-friendly: exit 0 when all went well, 3 when some could not be recovered)',
      ) as unknown as Argv<RecoverArgs>,
  handler: (args) => {
    const concurrency = parseCount(args.concurrency, '--concurrency', MAX_CONCURRENCY);
    if (E.isLeft(concurrency)) return refuseUsage(args, concurrency.left);
    const limit = parseCount(args.limit, '--limit', MAX_LIMIT);
    if (E.isLeft(limit)) return refuseUsage(args, limit.left);
    return runCommand(args, { pipelines: true }, async (s) => {
      if (args.dryRun) return dryRun(s, limit.right);
      const { out, client } = s;
      if (!args.autoResume) {
        out.line('Run Recovery');
        out.line();
        const runs = await detectInterruptedRuns({ client, limit: limit.right });
        if (E.isLeft(runs)) return runs;
        if (out.json) {
          out.document({ detected: runs.right.length, interrupted: runs.right });
          return E.right(ExitCode.ok);
        }
        out.line(`Found ${runs.right.length} interrupted run(s) (report only; add --auto-resume to resume them)`);
        out.line();
        for (const r of runs.right) printInterruptedRun(out, r);
        return E.right(ExitCode.ok);
      }
      out.line('Run Recovery');
      out.line();
      out.line('Scanning for interrupted runs...');
      out.line();
      const signals = installStopSignals(out.note);
      try {
        const summary = await recoverAll(s, {
          concurrency: concurrency.right,
          limit: limit.right,
          verbose: args.verbose,
          stopSignal: signals.stopSignal,
          abortSignal: signals.abortSignal,
          // Runs taken over before may be what killed their worker: each in a process of its own.
          isolate: reserveTakeover(s.client, isolatedResume(s)),
        });
        if (E.isLeft(summary)) return summary;
        if (out.json) out.document(summary.right);
        printSummary(out, summary.right, summary.right.detected > 0);
        return E.right(recoveryExitCode(summary.right, signals.stopSignal.aborted));
      } finally {
        signals.dispose();
      }
    });
  },
};
