import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { checkpointKey, readCheckpoint } from '../checkpointKey';
import { ExitCode } from '../exitCodes';
import { createOutput } from '../output';
import { readLines } from '../readLines';
import { refuse, runCommand, type GlobalArgs, readingSession } from '../session';
import { allowVariadic, lastValues } from '../variadic';
import { auditJournal } from '../../api/auditJournal';
import { parseRunId } from '../../api/internal/arguments';
import type { OrbitError } from '../../api/internal/errors';
import { CHECKPOINT, describeProblem, verifyExport, type AuditProblem, rebuildProjections } from '../../api/internal/audit';
import { checkCheckpointFile, verifyCheckpoint, type Checkpoint } from '../../api/internal/checkpoint';
import { separateArchived } from '../../api/internal/archive';

/** The run ids, signing key and checkpoint file that verify and rebuild-projections both take, checked before any connection. */
const auditInputs = (args: {
  readonly runIds?: readonly (string | number)[];
  readonly keyFile?: string;
  readonly checkpoint?: string;
}): E.Either<
  OrbitError,
  { ids: string[] | undefined; key: E.Right<Buffer | undefined>; checkpoint: E.Right<Checkpoint | undefined> }
> => {
  const ids = args.runIds === undefined || args.runIds.length === 0 ? undefined : args.runIds.map(String);
  for (const id of ids ?? []) {
    const parsed = parseRunId(id);
    if (E.isLeft(parsed)) return parsed;
  }
  const key = checkpointKey(args.keyFile);
  if (E.isLeft(key)) return key;
  const checkpoint = args.checkpoint === undefined ? E.right(undefined) : readCheckpoint(args.checkpoint);
  if (E.isLeft(checkpoint)) return checkpoint;
  return E.right({ ids, key, checkpoint });
};

interface VerifyArgs extends GlobalArgs {
  readonly runIds?: readonly string[];
  readonly file?: string;
  readonly checkpoint?: string;
  readonly previous?: string;
  readonly keyFile?: string;
  readonly trustUnsigned?: boolean;
}

/** `3 problem(s) in 2 of 10 run(s) checked and in the checkpoint file`: the checkpoint is not a run. */
const summaryLine = (problems: readonly AuditProblem[], runsChecked: number): string => {
  const inRuns = problems.filter((p) => p.runId !== CHECKPOINT);
  const runs = new Set(inRuns.map((p) => p.runId)).size;
  const inFile = problems.length - inRuns.length;
  if (inRuns.length === 0) return `${problems.length} problem(s) in the checkpoint file; ${runsChecked} run(s) checked`;
  return `${problems.length} problem(s) in ${runs} of ${runsChecked} run(s) checked${inFile > 0 ? ' and in the checkpoint file' : ''}`;
};

/** `verify --file`: an export checked with no database at all. */
const verifyFile = async (
  args: VerifyArgs,
  file: string,
  checkpoint: { readonly file: Checkpoint; readonly key?: Buffer; readonly trustUnsigned: boolean } | undefined,
): Promise<void> => {
  const out = createOutput({ json: args.json, color: args.color });
  const report = await verifyExport(readLines(file), { requireManifest: true, checkpoint }).catch((err: unknown) => err as Error);
  if (report instanceof Error) {
    out.error({ _tag: 'InvalidInput', what: 'file', message: report.message });
    process.exitCode = ExitCode.error;
    return;
  }
  const { runsChecked, eventsChecked, problems, brokenRuns } = report;
  const ok = problems.length === 0;
  if (out.json) out.document({ ok, runsChecked, eventsChecked, problems, brokenRuns });
  else {
    for (const p of problems) out.failure(describeProblem(p));
    if (ok) {
      out.success(
        `Export verified: ${runsChecked} run(s), ${eventsChecked} event(s), every hash chain intact, as its manifest lists${
          checkpoint === undefined ? '' : ', heads as the checkpoint saw them'
        }`,
      );
    } else out.line(`${problems.length} problem(s) in ${brokenRuns.length} of ${runsChecked} run(s) in ${file}`);
  }
  process.exitCode = ok ? ExitCode.ok : ExitCode.error;
};

export const verifyCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify [runIds..]',
  describe:
    "Check every run's journal (hash chain, seq order, decoding, legal order) and that the projections equal its fold; reports every problem, exit 1 if any",
  builder: (y: Argv<GlobalArgs>) =>
    allowVariadic(y)
      .positional('runIds', { type: 'string', array: true, describe: 'Only these runs' })
      .option('file', {
        type: 'string',
        // A lone `-` (stdin) is a value, not an empty option.
        nargs: 1,
        describe: 'Check an export (orbit export; - for stdin) instead, with no database',
      })
      .option('checkpoint', {
        type: 'string',
        describe:
          'Also check the journal against this checkpoint (orbit checkpoint): catches re-hashed edits, deleted runs and events',
      })
      .option('previous', { type: 'string', describe: 'With --checkpoint: the checkpoint before it, to check the chain link' })
      .option('key-file', { type: 'string', describe: 'With --checkpoint: the signing key (default: $ORBIT_CHECKPOINT_KEY)' })
      .option('trust-unsigned', {
        type: 'boolean',
        describe:
          'With --checkpoint and no key: accept a checkpoint whose signature cannot be checked (without it, that is a problem and exit 1)',
      }),
  handler: (argv) => {
    const args = lastValues(argv);
    const inputs = auditInputs(args);
    if (E.isLeft(inputs)) return refuse(args, inputs.left);
    const { ids, key, checkpoint } = inputs.right;
    const previous = args.previous === undefined ? E.right(undefined) : readCheckpoint(args.previous);
    if (E.isLeft(previous)) return refuse(args, previous.left);
    if (args.file !== undefined) {
      if (ids !== undefined || previous.right !== undefined) {
        return refuse(args, {
          _tag: 'InvalidInput',
          what: 'arguments',
          message: '--file checks the whole export: no run ids and no --previous with it',
        });
      }
      const cp =
        checkpoint.right === undefined
          ? undefined
          : { file: checkpoint.right, key: key.right, trustUnsigned: args.trustUnsigned === true };
      return verifyFile(args, String(args.file), cp);
    }
    return runCommand(args, { pipelines: false }, async (session) => {
      const { out } = session;
      const client = await readingSession(session);
      const fromCheckpoint: AuditProblem[] = [];
      if (checkpoint.right !== undefined) {
        fromCheckpoint.push(
          ...checkCheckpointFile(checkpoint.right, {
            key: key.right,
            previous: previous.right,
            trustUnsigned: args.trustUnsigned === true,
          }),
        );
        const found = await verifyCheckpoint(client, checkpoint.right);
        if (E.isLeft(found)) return found;
        fromCheckpoint.push(...found.right);
      }
      const report = await auditJournal({ client, runIds: ids });
      if (E.isLeft(report)) return report;
      // A run the archive ledger holds is archived, not missing or deleted (orbit archive).
      const separated = await separateArchived(client, [...fromCheckpoint, ...report.right.problems], checkpoint.right);
      if (E.isLeft(separated)) return separated;
      const { problems, archived } = separated.right;
      const archivedIds = new Set(archived.map((a) => a.runId));
      const { runsChecked } = report.right;
      const brokenRuns = [
        ...new Set([...fromCheckpoint.map((p) => p.runId).filter((id) => id !== CHECKPOINT), ...report.right.brokenRuns]),
      ].filter((id) => !archivedIds.has(id));
      const ok = problems.length === 0;
      if (out.json) {
        out.document({ ok, runsChecked, problems, brokenRuns, archived });
        return E.right(ok ? ExitCode.ok : ExitCode.error);
      }
      for (const p of problems) out.failure(describeProblem(p));
      for (const a of archived) {
        out.info(
          `run ${a.runId}: archived ${a.archivedAt} by ${a.archivedBy} to ${a.location} (${a.events} event(s), head seq ${a.lastSeq} ${a.headHash.slice(0, 16)}…, manifest sha256 ${a.manifestDigest.slice(0, 16)}…)`,
        );
      }
      if (ok) {
        out.success(
          `Journal and projections verified (${runsChecked - (ids === undefined ? 0 : archived.length)} run(s)${archived.length > 0 ? `; ${archived.length} archived` : ''})`,
        );
        return E.right(ExitCode.ok);
      }
      out.line(summaryLine(problems, runsChecked));
      if (brokenRuns.length > 0) {
        // Rebuilding would copy altered events into the projections: investigate first.
        out.info(
          `The journal of ${brokenRuns.length} run(s) was altered outside Orbit (${brokenRuns.join(', ')}): investigate before trusting it; rebuild-projections leaves these runs alone`,
        );
      }
      if (problems.some((p) => p.kind.startsWith('projection') || p.kind === 'orphan step row')) {
        out.info(
          checkpoint.right === undefined
            ? 'Projections differ from the journal. If the journal itself may have been edited and re-hashed, check it against a checkpoint first; otherwise: orbit rebuild-projections'
            : 'Projections differ from the journal. Rebuild them (orbit rebuild-projections) only for runs the checkpoint did not flag',
        );
      }
      return E.right(ExitCode.error);
    });
  },
};

interface RebuildArgs extends GlobalArgs {
  readonly runIds?: readonly string[];
  readonly includeBroken: boolean;
  readonly checkpoint?: string;
  readonly keyFile?: string;
  readonly trustUnsigned?: boolean;
}

export const rebuildCommand: CommandModule<GlobalArgs, RebuildArgs> = {
  command: 'rebuild-projections [runIds..]',
  describe:
    'Recreate the runs and steps tables from the journal (the journal is only read), run by run; runs it cannot or must not rebuild are skipped and named, exit 1 if any',
  builder: (y: Argv<GlobalArgs>) =>
    allowVariadic(y)
      .positional('runIds', { type: 'string', array: true, describe: 'Only these runs' })
      .option('include-broken', {
        type: 'boolean',
        default: false,
        describe:
          'Also rebuild runs whose journal does not verify, from the part that does (no altered event is copied), and remove projection rows with no journal',
      })
      .option('checkpoint', {
        type: 'string',
        describe: 'Leave alone every run this checkpoint flags (rewritten, events deleted): their projection is the evidence',
      })
      .option('key-file', { type: 'string', describe: 'With --checkpoint: the signing key (default: $ORBIT_CHECKPOINT_KEY)' })
      .option('trust-unsigned', {
        type: 'boolean',
        describe: 'With --checkpoint and no key: use it without checking its signature',
      })
      .example('$0 rebuild-projections --checkpoint cp-41.json', 'Every run the checkpoint does not flag')
      .example('$0 rebuild-projections r-7 r-9', 'Two runs') as unknown as Argv<RebuildArgs>,
  handler: (argv) => {
    const args = lastValues(argv);
    const inputs = auditInputs(args);
    if (E.isLeft(inputs)) return refuse(args, inputs.left);
    const { ids, key, checkpoint } = inputs.right;
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const exclude = new Map<string, string>();
      if (checkpoint.right !== undefined) {
        const fileProblems = checkCheckpointFile(checkpoint.right, {
          key: key.right,
          trustUnsigned: args.trustUnsigned === true,
        });
        if (fileProblems.length > 0) {
          // A checkpoint that cannot be trusted cannot say which runs are safe to rebuild.
          for (const p of fileProblems) out.failure(describeProblem(p));
          out.error(
            { _tag: 'InvalidInput', what: 'checkpoint', message: 'it cannot be trusted' },
            'Nothing rebuilt: the checkpoint cannot be trusted',
          );
          return E.right(ExitCode.error);
        }
        const found = await verifyCheckpoint(client, checkpoint.right);
        if (E.isLeft(found)) return found;
        for (const p of found.right) {
          if (!exclude.has(p.runId)) exclude.set(p.runId, `flagged by the checkpoint (${p.kind}: ${p.detail}): left as it was`);
        }
      }
      const r = await rebuildProjections(client, { includeBroken: args.includeBroken, runIds: ids, exclude });
      if (E.isLeft(r)) return r;
      const { runsRebuilt, orphansRemoved, skipped } = r.right;
      if (out.json) out.document(r.right);
      else {
        out.success(`Rebuilt projections of ${runsRebuilt} run(s); removed ${orphansRemoved} orphan row(s)`);
        for (const s of skipped) out.failure(`Skipped ${s.reason}`);
        if (skipped.length > 0) {
          out.info(
            `${skipped.length} run(s) left as they were: investigate (orbit verify), or rebuild them with --include-broken`,
          );
        }
      }
      return E.right(skipped.length === 0 ? ExitCode.ok : ExitCode.error);
    });
  },
};
