import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs, readingSession } from '../session';
import { allowVariadic, lastValues } from '../variadic';
import { exportRuns } from '../../api/exportRuns';
import { parseRunId } from '../../api/internal/arguments';
import { ManifestBuilder } from '../../api/internal/audit';

interface ExportArgs extends GlobalArgs {
  readonly runIds?: readonly string[];
  readonly all: boolean;
  readonly since?: string;
}

/** Writes and waits when stdout's buffer is full, so a large export does not pile up in memory. */
const write = (text: string): Promise<void> =>
  process.stdout.write(text) ? Promise.resolve() : new Promise((resolve) => process.stdout.once('drain', () => resolve()));

export const exportCommand: CommandModule<GlobalArgs, ExportArgs> = {
  command: 'export [runIds..]',
  describe:
    "Write runs' journals as NDJSON (one event per line, with its hash, then a manifest line: runs, event counts, head hashes) to stdout, for `verify --file` and `import`",
  builder: (y: Argv<GlobalArgs>) =>
    allowVariadic(y)
      .positional('runIds', { type: 'string', array: true, describe: 'The runs to export' })
      .option('all', { type: 'boolean', default: false, describe: 'Every run' })
      .option('since', { type: 'string', describe: 'With --all: only runs created at or after this ISO-8601 time' })
      .example('$0 export r-41 r-42 > runs.ndjson', 'Two runs')
      .example('$0 export --all --since 2026-11-01T00:00:00Z > november.ndjson', 'Every run created since November'),
  handler: (argv) => {
    const args = lastValues(argv);
    const ids = (args.runIds ?? []).map(String);
    if (ids.length > 0 === args.all) {
      return refuse(args, {
        _tag: 'InvalidInput',
        what: 'arguments',
        message: 'name the runs to export, or pass --all (not both)',
      });
    }
    if (args.since !== undefined && (!args.all || Number.isNaN(Date.parse(args.since)))) {
      return refuse(args, { _tag: 'InvalidInput', what: '--since', message: 'an ISO-8601 time, with --all' });
    }
    for (const id of ids) {
      const parsed = parseRunId(id);
      if (E.isLeft(parsed)) return refuse(args, parsed.left);
    }
    return runCommand(args, { pipelines: false }, async (session) => {
      const client = await readingSession(session);
      const since = args.since === undefined ? undefined : new Date(Date.parse(args.since)).toISOString();
      const manifest = new ManifestBuilder({ all: args.all, since: since ?? null });
      for await (const batch of exportRuns(args.all ? { since } : { runIds: ids }, { client })) {
        if (E.isLeft(batch)) return batch;
        manifest.add(batch.right);
        await write(batch.right.map((e) => `${JSON.stringify(e)}\n`).join(''));
      }
      // Last: a file cut short has none, and verify --file and import refuse it.
      await write(`${JSON.stringify(manifest.manifest())}\n`);
      return E.right(ExitCode.ok);
    });
  },
};
