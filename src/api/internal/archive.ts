import type * as E from 'fp-ts/Either';
import {
  archiveRuns as archive,
  planArchive as plan,
  type ArchiveOptions,
  type ArchivePlan,
  type ArchiveReport,
  type FinishedBefore,
} from '../../archive/archiveRuns';
import { separateArchived as separate, type ArchivedRun } from '../../archive/archivedRuns';
import type { Checkpoint } from '../../audit/checkpointFormat';
import type { AuditProblem } from '../../audit/problems';
import type { DbFailure, OrbitError } from '../../errors';
import type { OrbitClient } from '../../runtime/orbitClient';

/** `orbit archive` and what `verify` reads from the archive ledger. */
export type { ArchiveOptions, ArchivePlan, ArchiveReport, ArchivedRun, FinishedBefore };
export { RUNS_FILE } from '../../archive/archiveFiles';

/** Writes, verifies, then removes the runs finished before the cutoff (`orbit archive`). */
export const archiveRuns = (client: OrbitClient, opts: ArchiveOptions): Promise<E.Either<OrbitError, ArchiveReport>> =>
  archive(client.db, opts);

/** What `orbit archive --dry-run` reports. */
export const planArchive = (client: OrbitClient, f: FinishedBefore): Promise<E.Either<OrbitError, ArchivePlan>> =>
  plan(client.db, f);

/** Archived runs are not missing runs: `verify` reports them as archived. */
export const separateArchived = (
  client: OrbitClient,
  problems: readonly AuditProblem[],
  checkpoint?: Checkpoint,
): Promise<E.Either<DbFailure, { readonly problems: AuditProblem[]; readonly archived: ArchivedRun[] }>> =>
  separate(client.db, problems, checkpoint);
