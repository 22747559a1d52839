import type * as E from 'fp-ts/Either';
import { importRuns as importAll, type ImportReport } from '../../audit/importRuns';
import { rebuildProjections as rebuild, type RebuildOptions, type RebuildReport } from '../../audit/rebuildProjections';
import type { ExportReport } from '../../audit/verifyExport';
import type { DbFailure, OrbitError, RunNotFound } from '../../errors';
import type { OrbitClient } from '../../runtime/orbitClient';

/** `orbit verify`, `import` and `rebuild-projections` beyond the public auditJournal and exportRuns. */
export { CHECKPOINT, describeProblem, type AuditProblem } from '../../audit/problems';
export { verifyExport, type ExportReport } from '../../audit/verifyExport';
export { ManifestBuilder, type ExportManifest } from '../../audit/exportManifest';

/** Loads a verified export into this database's journal (`orbit import`); nothing is written if it is refused. */
export const importRuns = (client: OrbitClient, exported: ExportReport): Promise<E.Either<OrbitError, ImportReport>> =>
  importAll(client.db, exported);

/** Recreates the projection tables from the journal (`orbit rebuild-projections`). */
export const rebuildProjections = (
  client: OrbitClient,
  opts: RebuildOptions = {},
): Promise<E.Either<DbFailure | RunNotFound, RebuildReport>> => rebuild(client.db, opts);
