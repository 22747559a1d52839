import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { migrate } from '../../migrations/migrate';
import { listAppliedMigrations } from '../../queries/listAppliedMigrations';
import { ExitCode } from '../exitCodes';
import { runCommand, type GlobalArgs } from '../session';

export const migrateCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'migrate',
  describe: "Create or upgrade Orbit's schema (safe to run from several processes at once)",
  handler: (args) =>
    runCommand(args, { pipelines: false, migrate: true }, async ({ client, out }) => {
      // connect() already migrated; run again to report what is in place (a no-op under the lock).
      const r = await migrate(client.db);
      if (E.isLeft(r)) return r;
      const applied = await listAppliedMigrations(client.db);
      if (E.isLeft(applied)) return applied;
      const names = applied.right.map((x) => x.name);
      if (out.json) {
        out.document({ schema: client.db.schema, migrations: names });
      } else {
        out.success(`Schema "${client.db.schema}" is up to date (${names.length} migration(s): ${names.join(', ')})`);
      }
      return E.right(ExitCode.ok);
    }),
};
