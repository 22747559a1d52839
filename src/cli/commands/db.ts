import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { loadSettings } from '../config';
import { ExitCode } from '../exitCodes';
import { createOutput, type Output } from '../output';
import type { GlobalArgs } from '../session';
import {
  embeddedStatus,
  ensureEmbeddedServer,
  stopEmbeddedServer,
  type EmbeddedStatus,
  embeddedHome,
  urlLocation,
  processHost,
} from '../../api/internal/embeddedServer';
import type { OrbitError } from '../../api/internal/errors';

/** What `orbit db` does (main.ts checks the word under --help too). */
export const DB_ACTIONS = ['status', 'start', 'stop', 'url'] as const;

interface DbArgs extends GlobalArgs {
  readonly action: (typeof DB_ACTIONS)[number];
}

const megabytes = (bytes: number | null): string => (bytes === null ? 'unknown' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

const printStatus = (out: Output, s: EmbeddedStatus): void => {
  out.line(
    `Embedded PostgreSQL: ${s.running ? 'running' : s.initialized ? 'stopped' : 'not created yet (created on first use)'}`,
  );
  out.line(`  data dir: ${s.dataDir}`);
  if (s.version !== null) out.line(`  version:  PostgreSQL ${s.version}`);
  if (s.running) {
    out.line(`  port:     ${s.port ?? 'unknown'}`);
    out.line(`  pid:      ${s.pid ?? 'unknown'}`);
    if (s.url !== null) out.line(`  url:      ${s.url}`);
  }
  if (s.initialized) out.line(`  size:     ${megabytes(s.sizeBytes)}`);
  out.line(`  log:      ${s.logFile}`);
};

/**
 * `orbit db`: the embedded PostgreSQL as a visible, managed thing. It never touches a server
 * given by DATABASE_URL or --database-url; it says when one is set, since Orbit then uses that.
 */
export const dbCommand: CommandModule<GlobalArgs, DbArgs> = {
  command: 'db <action>',
  describe: 'The embedded PostgreSQL: status | start | stop | url (a DATABASE_URL for psql)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('action', { choices: DB_ACTIONS, demandOption: true })
      .example('$0 db status', 'Where the embedded server is, whether it runs, its size')
      .example('psql "$($0 db url)"', 'Open psql on it')
      .example('$0 db stop', 'Stop it (the next command that needs it starts it again)'),
  handler: async (args) => {
    const out = createOutput({ json: args.json, color: args.color });
    // A failure is its one line and exit code 1, as runCommand does for the other commands.
    const fail = (e: OrbitError): void => {
      out.error(e);
      process.exitCode = ExitCode.error;
    };
    // The same data dir and database URL every other command would use (flags, env, config file).
    const settings = await loadSettings(args, process.env, process.cwd());
    if (E.isLeft(settings)) return fail(settings.left);
    const { databaseUrl, dataDir } = settings.right;
    const home = dataDir.value ?? embeddedHome({ env: {}, cwd: process.cwd() });
    if (databaseUrl.value !== undefined && !out.json) {
      const where = urlLocation(databaseUrl.value) ?? 'another server';
      out.note(`Note: Orbit uses ${where} (from ${databaseUrl.from}), not this embedded server.`);
    }
    switch (args.action) {
      case 'status': {
        const s = await embeddedStatus(home);
        if (out.json) out.document(s);
        else printStatus(out, s);
        break;
      }
      case 'start':
      case 'url': {
        const r = await ensureEmbeddedServer(home, processHost());
        if (E.isLeft(r)) return fail(r.left);
        const { url, port, dataDir, reused } = r.right;
        if (out.json) out.document({ url, port, dataDir, started: !reused });
        else if (args.action === 'url') process.stdout.write(`${url}\n`);
        else if (reused) out.success(`Embedded PostgreSQL already running at 127.0.0.1:${port} (data in ${dataDir})`);
        else out.success(`Started embedded PostgreSQL at 127.0.0.1:${port} (data in ${dataDir}); stop it with "orbit db stop"`);
        break;
      }
      case 'stop': {
        const r = await stopEmbeddedServer(home, processHost());
        if (E.isLeft(r)) return fail(r.left);
        if (out.json) out.document({ stopped: r.right, dataDir: `${home}/pg` });
        else
          out.success(
            r.right
              ? `Stopped the embedded PostgreSQL (data in ${home}/pg)`
              : `The embedded PostgreSQL (${home}) was not running`,
          );
        break;
      }
    }
  },
};
