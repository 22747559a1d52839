import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { createOutput } from '../output';
import { readLines } from '../readLines';
import { runCommand, type GlobalArgs } from '../session';
import { describeProblem, importRuns, verifyExport } from '../../api/internal/audit';
import { OrbitErrors } from '../../api/internal/errors';

interface ImportArgs extends GlobalArgs {
  readonly file: string;
}

export const importCommand: CommandModule<GlobalArgs, ImportArgs> = {
  command: 'import <file>',
  describe:
    'Load an export (NDJSON from `orbit export`; - for stdin) into this database; refused, with nothing written, unless its hash chains verify',
  // nargs 1: yargs would otherwise read a lone `-` as an empty value.
  builder: (y: Argv<GlobalArgs>) => y.positional('file', { type: 'string', demandOption: true }).nargs('file', 1),
  handler: async (args) => {
    // Checked before connecting: a damaged export never touches the database.
    const report = await verifyExport(readLines(args.file), { keep: true, requireManifest: true }).catch(
      (err: unknown) => err as Error,
    );
    const out = createOutput({ json: args.json, color: args.color });
    if (report instanceof Error) {
      out.error({ _tag: 'InvalidInput', what: 'file', message: report.message });
      process.exitCode = ExitCode.error;
      return;
    }
    if (report.problems.length > 0) {
      for (const p of report.problems) out.failure(describeProblem(p));
      if (out.json) out.document({ imported: false, problems: report.problems });
      out.error(
        OrbitErrors.invalidInput('export', `it does not verify (${report.problems.length} problem(s))`),
        `Import refused: the export does not verify (${report.problems.length} problem(s)); nothing was written`,
      );
      process.exitCode = ExitCode.error;
      return;
    }
    return runCommand(args, { pipelines: false }, async ({ client, out: o }) => {
      const r = await importRuns(client, report);
      if (E.isLeft(r)) return r;
      if (o.json) o.document({ imported: true, ...r.right });
      else o.success(`Imported ${r.right.runsImported} run(s), ${r.right.eventsImported} event(s); hash chains verified`);
      return E.right(ExitCode.ok);
    });
  },
};
