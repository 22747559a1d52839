import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import type { RecoveryPoint } from '../projections/pipelineStats';
import { readRecoveryHistory, type RecoveryHistoryRow } from '../queries/readRecoveryHistory';

/** The recovery metrics per bucket, oldest first. */
export const recoveryHistory = async (
  db: Database,
  bucketMs: number,
  buckets: number,
): Promise<E.Either<DbFailure, RecoveryPoint[]>> =>
  E.map((rows: readonly RecoveryHistoryRow[]) =>
    rows.map((r): RecoveryPoint => ({
      from: r.from_at.toISOString(),
      interrupted: r.interrupted,
      recoveries: r.recoveries,
      successRate: r.ended === 0 ? null : r.succeeded / r.ended,
      stepsReExecuted: r.re_executed,
      averageRecoveryMs: r.avg_recovery_ms === null ? null : Math.round(r.avg_recovery_ms),
    })),
  )(await readRecoveryHistory(db, bucketMs, buckets));
