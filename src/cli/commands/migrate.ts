import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { migrate } from '../../db/migrate';
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
      const applied = await client.db.pool.query<{ name: string }>(
        `SELECT name FROM ${client.db.qs}.schema_migrations ORDER BY version`,
      );
      if (out.json) {
        out.document({ schema: client.db.schema, migrations: applied.rows.map((x) => x.name) });
      } else {
        out.success(
          `Schema "${client.db.schema}" is up to date (${applied.rows.length} migration(s): ${applied.rows.map((x) => x.name).join(', ')})`,
        );
      }
      return E.right(ExitCode.ok);
    }),
};
