#!/usr/bin/env node
import * as path from 'path';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { cancelCommand } from './commands/cancel';
import { checkInterruptedCommand } from './commands/checkInterrupted';
import { historyCommand } from './commands/history';
import { migrateCommand } from './commands/migrate';
import { recoverCommand } from './commands/recover';
import { resumeCommand } from './commands/resume';
import { runCmd } from './commands/run';
import { runsCommand } from './commands/runs';
import { workerCommand } from './commands/worker';
import { workersCommand } from './commands/workers';
import { statsCommand } from './commands/stats';
import { rebuildCommand, verifyCommand } from './commands/verify';
import { replayCommand } from './commands/replay';
import { diffCommand } from './commands/diff';
import { exportCommand } from './commands/export';
import { importCommand } from './commands/import';
import { checkpointCommand } from './commands/checkpoint';
import { ExitCode } from './exitCodes';
import { checkDurationSettings } from '../runtime/duration';
import type { GlobalArgs } from './session';

/** The docs the package ships (dist/cli/ or src/cli/ -> <package root>/docs), so --help can name them. */
const DOCS_DIR = path.resolve(__dirname, '..', '..', 'docs');

/** Commands are typed against GlobalArgs; yargs' inferred option types are structurally the same. */
const asCommand = <A>(c: CommandModule<GlobalArgs, A>): CommandModule => c as unknown as CommandModule;

/** The `orbit` command line. Commands are thin: they format what the library returns. */
export const buildCli = (argv: readonly string[]) =>
  yargs(argv)
    .scriptName('orbit')
    // `--schema a --schema b` means b, as in most CLIs, not an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .usage('$0 <command> [options]\n\nRun multi-step pipelines on PostgreSQL and recover them after crashes.')
    .option('database-url', {
      type: 'string',
      describe: 'PostgreSQL URL (default: $DATABASE_URL, else an embedded server under ./.orbit)',
    })
    .option('schema', { type: 'string', describe: 'Schema of Orbit\'s tables (default: $ORBIT_SCHEMA or "orbit")' })
    .option('pipelines', {
      type: 'string',
      describe: 'Module that exports or registers pipelines (default: $ORBIT_PIPELINES, else ./orbit.config.js)',
    })
    .option('threshold', {
      type: 'string',
      describe: 'Interrupted-run threshold, e.g. 30s, 10m (default: $ORBIT_INTERRUPTED_THRESHOLD or 10m)',
    })
    .option('auto-recover', { type: 'boolean', default: false, describe: 'Recover interrupted runs before running the command' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document on stdout' })
    .option('color', {
      type: 'boolean',
      default: true,
      describe: 'Colour output (also off with NO_COLOR or when not a terminal)',
    })
    .command(asCommand(runCmd))
    .command(asCommand(checkInterruptedCommand))
    .command(asCommand(resumeCommand))
    .command(asCommand(recoverCommand))
    .command(asCommand(workerCommand))
    .command(asCommand(workersCommand))
    .command(asCommand(cancelCommand))
    .command(asCommand(runsCommand))
    .command(asCommand(historyCommand))
    .command(asCommand(statsCommand))
    .command(asCommand(migrateCommand))
    .command(asCommand(verifyCommand))
    .command(asCommand(rebuildCommand))
    .command(asCommand(replayCommand))
    .command(asCommand(diffCommand))
    .command(asCommand(exportCommand))
    .command(asCommand(importCommand))
    .command(asCommand(checkpointCommand))
    .example('$0 run data-pipeline --metadata \'{"batchId":"b-7"}\'', 'Run a pipeline')
    .example('$0 check-interrupted --threshold 30s', 'List runs with no activity for 30 s')
    .example('$0 recover --auto-resume', 'Resume every interrupted run')
    .example('$0 --auto-recover run my-pipeline', 'Recover first, then run')
    .epilogue(
      'Exit codes: 0 ok, 1 error (nothing was changed), 2 usage, 3 some interrupted runs could not be recovered.\n' +
        `Docs (installed with the package): ${DOCS_DIR}/RECOVERY.md, PIPELINES.md, RETRY.md, AUDIT.md`,
    )
    .check((argv) => checkDurationSettings(argv))
    .demandCommand(1, 'Name a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // A failed .check() arrives as a YError: a usage error, not a crash.
      if (err instanceof Error && err.name !== 'YError') throw err;
      const text = msg ?? (err instanceof Error ? err.message : String(err));
      process.stderr.write(`Error: ${text.replace(/\s*\n\s*/g, ' ')}. Run "orbit --help" for usage.\n`);
      process.exit(ExitCode.usage);
    });

export const main = async (argv: readonly string[]): Promise<void> => {
  await buildCli(argv).parseAsync();
};

if (require.main === module) {
  // `orbit history <id> | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(hideBin(process.argv)).catch((err: unknown) => {
    // Only programmer errors get here; expected failures were printed as one line already.
    process.stderr.write(
      `Internal error: ${err instanceof Error ? (process.env.ORBIT_DEBUG ? err.stack : err.message) : String(err)}\n`,
    );
    process.exitCode = ExitCode.error;
  });
}

export type { GlobalArgs };
