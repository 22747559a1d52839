import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { runCommand, type GlobalArgs } from '../session';
import { addPartitionsAhead, appliedMigrations, migrate } from '../../api/internal/migrations';

export const migrateCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'migrate',
  describe: "Create or upgrade Orbit's schema (safe to run from several processes at once)",
  handler: (args) =>
    runCommand(args, { pipelines: false, migrate: true }, async ({ client, out }) => {
      // connect() already migrated; run again to report what is in place (a no-op under the lock).
      const r = await migrate(client);
      if (E.isLeft(r)) return r;
      // The journal's monthly partitions, kept made 12 months ahead (the schema's owner only).
      const made = await addPartitionsAhead(client);
      if (E.isLeft(made)) return made;
      const applied = await appliedMigrations(client);
      if (E.isLeft(applied)) return applied;
      const names = applied.right.map((x) => x.name);
      if (out.json) {
        out.document({
          schema: client.schema,
          migrations: names,
          ...(made.right.length > 0 ? { partitionsAdded: made.right } : {}),
        });
      } else {
        out.success(`Schema "${client.schema}" is up to date (${names.length} migration(s): ${names.join(', ')})`);
        if (made.right.length > 0) out.info(`Made journal partition(s) ${made.right.join(', ')}`);
      }
      return E.right(ExitCode.ok);
    }),
};
