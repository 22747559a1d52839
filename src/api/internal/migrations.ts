import type * as E from 'fp-ts/Either';
import type { DbFailure } from '../../errors';
import { migrate as run, type MigrationReport } from '../../migrations/migrate';
import { addPartitionsAhead as ahead } from '../../journal/partitionsAhead';
import { listAppliedMigrations, type AppliedMigrationRow } from '../../queries/listAppliedMigrations';
import type { OrbitClient } from '../../runtime/orbitClient';

/** Creates or upgrades the client's schema (`orbit migrate`; needs DDL rights). */
export const migrate = (client: OrbitClient): Promise<E.Either<DbFailure, MigrationReport>> => run(client.db);

/** The migrations applied to the client's schema, in order. */
export const appliedMigrations = (client: OrbitClient): Promise<E.Either<DbFailure, AppliedMigrationRow[]>> =>
  listAppliedMigrations(client.db);

/** Makes the journal's monthly partitions 12 months ahead when the client's role owns the schema (`orbit migrate`). */
export const addPartitionsAhead = (client: OrbitClient): Promise<E.Either<DbFailure, string[]>> => ahead(client.db);
