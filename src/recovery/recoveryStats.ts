import * as E from 'fp-ts/Either';
import type { DbFailure } from '../errors';
import { readRecoveryStats, type RecoveryStatsRow } from '../queries/readRecoveryStats';
import type { OrbitClient } from '../runtime/orbitClient';
import { detectInterruptedRuns } from './detectInterruptedRuns';

/** The spec's recovery metrics, computed from the journal (plus a live detection). */
export interface RecoveryStats {
  /** Runs interrupted right now (not yet recovered). */
  readonly interruptedNow: number;
  /**
   * Running total of runs detected as interrupted: distinct runs the journal shows resumed after
   * an interruption (a `run.resumed` without `retryFailed`; with `since`, resumed in the window),
   * plus the runs interrupted now and never resumed. A run interrupted several times counts once;
   * an interrupted run that was cancelled, or never detected before it was, leaves no trace and
   * is not counted.
   */
  readonly interruptedTotal: number;
  /** Distinct runs that recovery resumed at least once. */
  readonly runsRecovered: number;
  /** `run.resumed` events. */
  readonly recoveries: number;
  /** Recoveries whose run then succeeded, over recoveries whose run then ended (null if none ended). */
  readonly successRate: number | null;
  /** Steps started after a resume, per recovery. */
  readonly stepsExecutedPerRecovery: number | null;
  /** Map items started after a resume (the unfinished items of map steps), per recovery. */
  readonly itemsExecutedPerRecovery: number | null;
  /** In-flight steps (started, no outcome) executed again, per recovery. */
  readonly stepsReExecutedPerRecovery: number | null;
  /** From `run.resumed` to the run's end, in ms, over recoveries that ended. */
  readonly averageRecoveryMs: number | null;
  /** From the last event before the interruption to `run.resumed`, in ms. */
  readonly averageDowntimeMs: number | null;
}

/** Recovery metrics over the whole journal, or over resumptions since `sinceMs` ago. */
export const recoveryStats = async (
  client: OrbitClient,
  options: { readonly sinceMs?: number } = {},
): Promise<E.Either<DbFailure, RecoveryStats>> => {
  const { db } = client;
  const now = await detectInterruptedRuns(client);
  if (E.isLeft(now)) return now;
  const rows = await readRecoveryStats(
    db,
    options.sinceMs ?? null,
    now.right.map((r) => r.runId),
  );
  if (E.isLeft(rows)) return rows;
  const r = rows.right[0] as RecoveryStatsRow;
  const per = (n: number) => (r.recoveries === 0 ? null : n / r.recoveries);
  return E.right({
    interruptedNow: now.right.length,
    interruptedTotal: r.interrupted_total,
    runsRecovered: r.runs,
    recoveries: r.recoveries,
    successRate: r.ended === 0 ? null : r.succeeded / r.ended,
    stepsExecutedPerRecovery: per(r.steps_started),
    itemsExecutedPerRecovery: per(r.items_started),
    stepsReExecutedPerRecovery: per(r.in_flight),
    averageRecoveryMs: r.avg_recovery_ms === null ? null : Math.round(r.avg_recovery_ms),
    averageDowntimeMs: r.avg_downtime_ms === null ? null : Math.round(r.avg_downtime_ms),
  });
};
