#!/usr/bin/env node
import * as path from 'path';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { cancelCommand } from './commands/cancel';
import { sendCommand } from './commands/send';
import { SCHEDULE_ACTIONS, scheduleCommand } from './commands/schedule';
import { checkInterruptedCommand } from './commands/checkInterrupted';
import { configCommand } from './commands/config';
import { DB_ACTIONS, dbCommand } from './commands/db';
import { forkCommand } from './commands/fork';
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
import { archiveCommand } from './commands/archive';
import { uiCommand } from './commands/ui';
import { ExitCode } from './exitCodes';
import { positionalWords, usageMessage } from './suggest';
import type { GlobalArgs } from './session';
import { checkDurationSettings } from '../api/internal/durations';
import { OrbitErrors } from '../api/internal/errors';

/** The docs the package ships (dist/cli/ or src/cli/ -> <package root>/docs), so --help can name them. */
const DOCS_DIR = path.resolve(__dirname, '..', '..', 'docs');

/** Commands are typed against GlobalArgs; yargs' inferred option types are structurally the same. */
const asCommand = <A>(c: CommandModule<GlobalArgs, A>): CommandModule => {
  // Every registered command's names, for the "unknown command" message.
  for (const name of [c.command, c.aliases].flat()) if (typeof name === 'string') KNOWN_COMMANDS.add(name.split(' ')[0] ?? name);
  return c as unknown as CommandModule;
};
const KNOWN_COMMANDS = new Set<string>();
/** Commands whose first argument is one of a fixed set of actions. */
const ACTIONS: Readonly<Record<string, readonly string[]>> = { db: DB_ACTIONS, schedule: SCHEDULE_ACTIONS };

/** The instance being built: its `fail` handler asks it which options take a value. */
let current: unknown;
const tracked = <T>(y: T): T => {
  current = y;
  return y;
};

/** Options that take a value (to find the command word after them); yargs keeps them untyped. */
const stringOptionsOf = (y: unknown): ReadonlySet<string> => {
  const get = (y as { getOptions?: unknown }).getOptions;
  const opts: unknown = typeof get === 'function' ? (get as () => unknown).call(y) : undefined;
  const list = (opts as { string?: unknown } | undefined)?.string;
  return new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
};

/** The `orbit` command line. Commands are thin: they format what the library returns. */
export const buildCli = (argv: readonly string[]) =>
  tracked(yargs(argv))
    .scriptName('orbit')
    // `--schema a --schema b` means b, as in most CLIs, not an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .usage('$0 <command> [options]\n\nRun multi-step pipelines on PostgreSQL and recover them after crashes.')
    // nargs 1 on options that take a value: `--threshold -1m` and `--file -` are values, not flags.
    .option('database-url', {
      type: 'string',
      nargs: 1,
      describe: 'PostgreSQL URL (default: $DATABASE_URL, else the embedded server: see orbit db)',
    })
    .option('read-url', {
      type: 'string',
      nargs: 1,
      describe:
        'A streaming replica for read-only work (runs, history, verify, export, stats, ui pages), which says how far it lags; writes and leases stay on the database URL (default: $ORBIT_READ_URL)',
    })
    .option('data-dir', {
      type: 'string',
      nargs: 1,
      describe: 'Directory of the embedded PostgreSQL (default: $ORBIT_HOME, else .orbit at the project root)',
    })
    .option('schema', {
      type: 'string',
      nargs: 1,
      describe: 'Schema of Orbit\'s tables (default: $ORBIT_SCHEMA or "orbit"); must already exist, except for "orbit migrate"',
    })
    .option('migrate', {
      type: 'boolean',
      describe:
        "Create or upgrade the schema first, needs DDL rights (default: $ORBIT_MIGRATE; on only for the embedded server's default schema)",
    })
    .option('pipelines', {
      type: 'string',
      nargs: 1,
      describe: 'Module that exports or registers pipelines (default: $ORBIT_PIPELINES, else orbit.config.js)',
    })
    .option('threshold', {
      type: 'string',
      nargs: 1,
      describe: 'Interrupted-run threshold, e.g. 30s, 10m (default: $ORBIT_INTERRUPTED_THRESHOLD or 10m)',
    })
    .option('verbose', { type: 'boolean', describe: 'Say more (which database is used; step progress where supported)' })
    .option('auto-recover', { type: 'boolean', default: false, describe: 'Recover interrupted runs before running the command' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document on stdout' })
    .option('timestamps', { type: 'boolean', default: false, describe: 'Start each output line with its ISO time (cron logs)' })
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
    .command(asCommand(sendCommand))
    .command(asCommand(forkCommand))
    .command(asCommand(scheduleCommand))
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
    .command(asCommand(archiveCommand))
    .command(asCommand(dbCommand))
    .command(asCommand(configCommand))
    .command(asCommand(uiCommand))
    .example('$0 run data-pipeline --metadata \'{"batchId":"b-7"}\'', 'Run a pipeline')
    .example('$0 check-interrupted --threshold 30s', 'List runs with no activity for 30 s')
    .example('$0 recover --auto-resume', 'Resume every interrupted run')
    .example('$0 --auto-recover run my-pipeline', 'Recover first, then run')
    .epilogue(
      'Exit codes: 0 ok, 1 error (nothing was changed), 2 usage, 3 some interrupted runs could not be recovered.\n' +
        `Docs (installed with the package): ${DOCS_DIR}/RECOVERY.md, PIPELINES.md, RETRY.md, AUDIT.md, UI.md`,
    )
    .check((argv) => checkDurationSettings(argv))
    .demandCommand(1, 'Name a command (see --help)')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // A failed .check() arrives as a YError: a usage error, not a crash.
      if (err instanceof Error && err.name !== 'YError') throw err;
      failUsage(argv, msg ?? (err instanceof Error ? err.message : String(err)));
    });

/** A usage error: one line on stderr (a JSON line with --json), exit 2. */
const failUsage = (argv: readonly string[], text: string): never => {
  const message = usageMessage(text, argv, KNOWN_COMMANDS, stringOptionsOf(current));
  // --json: the error as a JSON line with its tag, as for every other error.
  if (argv.includes('--json')) {
    const error = OrbitErrors.invalidInput('arguments', message);
    process.stderr.write(`${JSON.stringify({ error, message: `${message} Run "orbit --help" for usage.` })}\n`);
  } else process.stderr.write(`Error: ${message} Run "orbit --help" for usage.\n`);
  return process.exit(ExitCode.usage);
};

export const main = async (argv: readonly string[]): Promise<void> => {
  const cli = buildCli(argv);
  // yargs answers `--help` before it looks at the command: `orbit nosuch --help` would print the
  // global help and exit 0 as if the command existed.
  // Likewise `orbit db nosuch --help` would print db's help and exit 0.
  if (argv.some((a) => a === '--help' || a === '-h')) {
    const [word, action] = positionalWords(argv, stringOptionsOf(cli));
    if (word !== undefined && !KNOWN_COMMANDS.has(word)) failUsage(argv, `Unknown command: ${word}`);
    const actions = word === undefined ? undefined : ACTIONS[word];
    if (actions !== undefined && action !== undefined && !actions.includes(action))
      failUsage(argv, `Unknown action for ${word}: ${action} (choose from ${actions.join(', ')})`);
  }
  await cli.parseAsync();
};

if (require.main === module) {
  // `orbit history <id> | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(hideBin(process.argv))
    .catch((err: unknown) => {
      // Only programmer errors get here; expected failures were printed as one line already.
      process.stderr.write(
        `Internal error: ${err instanceof Error ? (process.env.ORBIT_DEBUG ? err.stack : err.message) : String(err)}\n`,
      );
      process.exitCode = ExitCode.error;
    })
    .finally(exitWhenFlushed);
}

/**
 * A command ends when its work ends: Orbit's own connections are closed by now, but the user's
 * pipelines module may hold handles open (a `pg` Pool's idle clients, a server socket) that would
 * keep the process, or a worker's isolated child, alive for seconds or forever. Exit once what
 * was written to stdout and stderr has been handed to the OS.
 */
function exitWhenFlushed(): void {
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

export type { GlobalArgs };
