import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { readPipelineStats as read, type PipelineStatsRow } from '../queries/readPipelineStats';
import type { PipelineStats } from './pipelineStats';

/** Outcomes and durations per pipeline over the runs started in the last `sinceMs`. */
export const readPipelineStats = async (db: Database, sinceMs: number): Promise<E.Either<DbFailure, PipelineStats[]>> =>
  E.map((rows: readonly PipelineStatsRow[]) =>
    rows.map((r): PipelineStats => {
      const ended = r.succeeded + r.failed + r.cancelled;
      return {
        pipelineId: r.pipeline_id,
        runs: r.runs,
        succeeded: r.succeeded,
        failed: r.failed,
        cancelled: r.cancelled,
        unfinished: r.unfinished,
        successRate: ended === 0 ? null : r.succeeded / ended,
        p50Ms: r.p50_ms === null ? null : Math.round(r.p50_ms),
        p95Ms: r.p95_ms === null ? null : Math.round(r.p95_ms),
        lastStartedAt: r.last_started_at.toISOString(),
      };
    }),
  )(await read(db, sinceMs));
