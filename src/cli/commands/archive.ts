import path from 'node:path';
import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { checkpointKey } from '../checkpointKey';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { archiveRuns, planArchive, RUNS_FILE, type FinishedBefore } from '../../api/internal/archive';
import { parseDuration } from '../../api/internal/durations';

interface ArchiveArgs extends GlobalArgs {
  readonly finishedBefore?: string;
  readonly to?: string;
  readonly dryRun?: boolean;
  readonly keyFile?: string;
  readonly batchEvents?: number;
}

const ISO = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `90d` (before 90 days ago, on the database's clock) or an ISO-8601 time. */
const parseCutoff = (text: string): E.Either<import('../../api/internal/errors').OrbitError, FinishedBefore> => {
  if (ISO.test(text.trim()) && !Number.isNaN(Date.parse(text))) return E.right({ at: new Date(Date.parse(text)) });
  return E.map((ms: number): FinishedBefore => ({ agoMs: ms }))(parseDuration(text, '--finished-before'));
};

export const archiveCommand: CommandModule<GlobalArgs, ArchiveArgs> = {
  command: 'archive',
  describe:
    'Move finished runs out of the journal: write them to <dir> as a verified export (runs.ndjson with its manifest, checkpoint.json), then remove them through the owner-only archive_remove_runs, recording each in the archive ledger; resumable',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('finished-before', {
        type: 'string',
        describe: 'Runs that finished (success, failed, cancelled) longer ago than this (90d) or before this ISO-8601 time',
      })
      .option('to', { type: 'string', describe: 'The archive directory (new or empty; an unfinished archive in it is resumed)' })
      .option('dry-run', {
        type: 'boolean',
        describe: 'Say how many runs and events would be archived; write and remove nothing',
      })
      .option('key-file', {
        type: 'string',
        describe: "Sign the archive's checkpoint with HMAC-SHA256 using this file as key (default: $ORBIT_CHECKPOINT_KEY)",
      })
      .option('batch-events', {
        type: 'number',
        describe: 'Events removed per transaction (a run is never split; default 5000)',
      })
      .example('$0 archive --finished-before 90d --dry-run', 'How much would go')
      .example('$0 archive --finished-before 90d --to /backup/orbit-2026-q3', 'Archive, verify, then trim')
      .example('$0 import /backup/orbit-2026-q3/runs.ndjson', 'Bring the archived runs back'),
  handler: (args) => {
    if (args.finishedBefore === undefined) {
      return refuse(args, {
        _tag: 'InvalidInput',
        what: '--finished-before',
        message: 'required: a duration (90d) or an ISO-8601 time',
      });
    }
    const cutoff = parseCutoff(String(args.finishedBefore));
    if (E.isLeft(cutoff)) return refuse(args, cutoff.left);
    if (args.dryRun !== true && (args.to === undefined || String(args.to).trim() === '')) {
      return refuse(args, {
        _tag: 'InvalidInput',
        what: '--to',
        message: 'required: the directory to write the archive to (or --dry-run)',
      });
    }
    const batch = args.batchEvents;
    if (batch !== undefined && (!Number.isInteger(batch) || batch < 1)) {
      return refuse(args, { _tag: 'InvalidInput', what: '--batch-events', message: 'a whole number of events, at least 1' });
    }
    const key = checkpointKey(args.keyFile);
    if (E.isLeft(key)) return refuse(args, key.left);
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      if (args.dryRun === true) {
        const plan = await planArchive(client, cutoff.right);
        if (E.isLeft(plan)) return plan;
        const { runs, events, finishedBefore } = plan.right;
        if (out.json) out.document({ dryRun: true, runs, events, finishedBefore: finishedBefore.toISOString() });
        else
          out.line(
            `Would archive ${runs} run(s), ${events} event(s) finished before ${finishedBefore.toISOString()}; nothing written or removed (dry run)`,
          );
        return E.right(ExitCode.ok);
      }
      const fault = client.faultAfter === 'archive.batch';
      const r = await archiveRuns(client, {
        finishedBefore: cutoff.right,
        dir: String(args.to),
        key: key.right,
        batchEvents: batch,
        onBatch: (p) => {
          // Crash tests: die right after the first batch committed, before progress.json says so.
          if (fault) process.kill(process.pid, 'SIGKILL');
          if (!out.json && !p.done) out.note(`Removed ${p.removedRuns} of ${p.runs} run(s)`);
        },
      });
      if (E.isLeft(r)) return r;
      const a = r.right;
      if (out.json) {
        out.document({ ...a, finishedBefore: a.finishedBefore.toISOString() });
        return E.right(a.changed.length === 0 ? ExitCode.ok : ExitCode.error);
      }
      if (a.runs === 0) {
        out.line(`Nothing to archive: no run finished before ${a.finishedBefore.toISOString()}`);
        return E.right(ExitCode.ok);
      }
      out.success(
        `${a.resumed ? 'Resumed and finished the archive: ' : 'Archived '}${a.removedRuns} run(s), ${a.removedEvents} event(s) finished before ${a.finishedBefore.toISOString()} to ${a.dir} (${a.bytes} bytes, verified; manifest sha256 ${a.manifestDigest.slice(0, 16)}…)`,
      );
      for (const d of a.droppedPartitions) {
        out.info(`Dropped journal partition ${d.name} whole: ${d.runs} run(s), ${d.events} event(s), ${d.bytes} bytes freed`);
      }
      for (const id of a.changed) out.failure(`run ${id}: changed after it was exported (resumed?): left in the journal`);
      out.info(`Bring them back with: orbit import ${path.join(a.dir, RUNS_FILE)}`);
      return E.right(a.changed.length === 0 ? ExitCode.ok : ExitCode.error);
    });
  },
};
