import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { runCommand, type GlobalArgs } from '../session';
import { appliedMigrations, migrate } from '../../api/internal/migrations';

export const migrateCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'migrate',
  describe: "Create or upgrade Orbit's schema (safe to run from several processes at once)",
  handler: (args) =>
    runCommand(args, { pipelines: false, migrate: true }, async ({ client, out }) => {
      // connect() already migrated; run again to report what is in place (a no-op under the lock).
      const r = await migrate(client);
      if (E.isLeft(r)) return r;
      const applied = await appliedMigrations(client);
      if (E.isLeft(applied)) return applied;
      const names = applied.right.map((x) => x.name);
      if (out.json) {
        out.document({ schema: client.schema, migrations: names });
      } else {
        out.success(`Schema "${client.schema}" is up to date (${names.length} migration(s): ${names.join(', ')})`);
      }
      return E.right(ExitCode.ok);
    }),
};
