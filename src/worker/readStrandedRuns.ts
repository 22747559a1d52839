import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { listStrandedQueuedRuns, type StrandedQueuedRow } from '../queries/listStrandedQueuedRuns';
import type { StrandedRuns } from './strandedRuns';

/** Queued runs no live worker can execute, by pipeline and definition (see `listStrandedRuns`). */
export const readStrandedRuns = async (db: Database): Promise<E.Either<DbFailure, StrandedRuns[]>> =>
  E.map((rs: readonly StrandedQueuedRow[]) =>
    rs.map((r): StrandedRuns => ({
      pipelineId: r.pipeline_id,
      definitionHash: r.definition_hash,
      runs: r.runs,
      oldestQueuedAt: r.oldest,
      liveDefinitions: r.live_hashes,
    })),
  )(await listStrandedQueuedRuns(db));
