import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { MAX_LIMIT, parseCount, refuseUsage } from '../options';
import { runCommand, type GlobalArgs, readingSession } from '../session';
import { databaseNow } from '../../api/internal/liveness';
import { listRuns, type RunSummary } from '../../api/listRuns';
import { describeWait, type RunStatus } from '../../api/loadRunState';

/** 1.2s, 3m04s, 2h05m: how long a run took, or has been going (then suffixed "so far"). */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
};

/**
 * What the STATUS column says: the run's status, except that a running run nobody holds was
 * released by its worker and waits for another (it is not being executed), and that a suspended
 * run says what it sleeps or waits for (`sleeping until …`, `waiting for "approved" (times out …)`).
 */
const shownStatus = (r: RunSummary): string =>
  r.suspended !== undefined ? describeWait(r.suspended) : r.status === 'running' && r.owner === null ? 'released' : r.status;

/** How long it took; while it goes on, how long so far; while nobody executes it, how long it has waited. */
const runDuration = (r: RunSummary, now: number): string => {
  const start = Date.parse(r.startedAt);
  if (r.finishedAt !== null) return formatDuration(Date.parse(r.finishedAt) - start);
  if (r.status === 'pending') return `waiting ${formatDuration(now - start)}`;
  if (r.status === 'sleeping' || r.status === 'waiting') return `${formatDuration(now - start)} so far`;
  if (r.owner === null) return `waiting ${formatDuration(now - Date.parse(r.lastEventAt))}`;
  return `${formatDuration(now - start)} so far`;
};

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
        choices: ['pending', 'running', 'sleeping', 'waiting', 'success', 'failed', 'cancelled'] as const,
        describe: 'Only runs in this status',
      })
      .option('pipeline', { type: 'string', describe: 'Only runs of this pipeline' })
      .option('limit', { type: 'string', default: '20', describe: `At most this many, newest first (1 to ${MAX_LIMIT})` })
      .example('$0 runs --status failed', 'Runs that failed, newest first')
      .example('$0 runs --status waiting', 'Runs waiting for an event: STATUS says which, and until when'),
  handler: (args) => {
    const limit = parseCount(args.limit, '--limit', MAX_LIMIT);
    if (E.isLeft(limit)) return refuseUsage(args, limit.left);
    return runCommand(args, { pipelines: false }, async (session) => {
      const { out } = session;
      const client = await readingSession(session);
      const runs = await listRuns({ client, status: args.status, pipelineId: args.pipeline, limit: limit.right });
      if (E.isLeft(runs)) return runs;
      if (out.json) {
        out.document(runs.right);
        return E.right(ExitCode.ok);
      }
      if (runs.right.length === 0) {
        out.line('No runs found');
        return E.right(ExitCode.ok);
      }
      // Durations on the database clock, the clock of the times they are measured from.
      const now = await databaseNow(client);
      if (E.isLeft(now)) return now;
      const rows = runs.right.map((r) => ({
        cells: [
          r.runId,
          r.pipelineId,
          shownStatus(r),
          `${r.stepsSucceeded}/${r.stepsTotal}`,
          r.startedAt,
          runDuration(r, now.right.getTime()),
        ],
        error: r.error,
        suspended: r.suspended,
      }));
      const header = ['RUN', 'PIPELINE', 'STATUS', 'STEPS', 'STARTED', 'DURATION'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]?.length ?? 0)));
      const line = (cells: readonly string[]) =>
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd();
      out.line(out.dim(line(header)));
      for (const r of rows) {
        out.line(line(r.cells));
        if (r.error) out.line(`  ${out.dim(r.error)}`);
        // The STATUS column says what it waits for; this line, in which step.
        if (r.suspended !== undefined) out.line(`  ${out.dim(`in step ${r.suspended.step}`)}`);
      }
      return E.right(ExitCode.ok);
    });
  },
};
