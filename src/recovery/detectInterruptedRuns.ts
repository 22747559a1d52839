import * as E from 'fp-ts/Either';
import type { DbFailure } from '../errors';
import { countUnfinishedRuns, type UnfinishedCountsRow } from '../queries/countUnfinishedRuns';
import { listInterruptedRuns, type InterruptedRunRow } from '../queries/listInterruptedRuns';
import { listRecentFailedRuns, type FailedRunRow } from '../queries/listRecentFailedRuns';
import type { OrbitClient } from '../runtime/orbitClient';
import { deadOwners } from './liveness';

/** A run that is `running` but that nobody is executing: what `orbit check-interrupted` lists. */
export interface InterruptedRun {
  readonly runId: string;
  readonly pipelineId: string;
  /** `running`, or `pending` for a run created and never claimed. */
  readonly status: 'pending' | 'running';
  readonly startedAt: string;
  /** The later of its last journal event and its owner's last heartbeat. */
  readonly lastActivityAt: string;
  readonly completedSteps: number;
  readonly failedSteps: number;
  /** The first of `readySteps` (null if every step succeeded). */
  readonly nextStep: string | null;
  /**
   * Every step that has not succeeded and whose dependencies all have, in step order: what a
   * resume would run (or, failed, what blocks it). One step for a linear pipeline; several when
   * branches of a DAG were in flight or ready.
   */
  readonly readySteps: readonly string[];
  /** Set when the next step is waiting for a scheduled retry. */
  readonly nextRetryAt: string | null;
  /** The worker that last held it (null when it was released on shutdown). */
  readonly owner: string | null;
  /** The run's journal seq when detected; recovery claims only if it is still there. */
  readonly lastSeq: number;
  readonly recoveryCount: number;
  /** Why it is interrupted: released by its worker, its owner's process is gone, or silent past the threshold. */
  readonly reason: 'released' | 'dead' | 'stale';
  /**
   * Its owner is alive although it no longer executes the run: the owner's lease is renewed without
   * it, or the owner heartbeat as a worker more than a renewal interval after the run's last sign of
   * life. The run neither killed nor froze its process (a journal that lost the run's last
   * transitions in a failover, a worker that gave it up), so it is no suspect to isolate.
   */
  readonly ownerAlive: boolean;
}

export interface DetectOptions {
  /** No activity for longer than this means interrupted. Default: the client's threshold (10 min). */
  readonly thresholdMs?: number;
  /** At most this many runs, oldest activity first. Default 1,000. */
  readonly limit?: number;
}

/**
 * Runs that nobody is executing, by the one liveness rule (`run_liveness`, database clock):
 * released by their worker, owned by a process of this machine that no longer exists, or (no
 * valid lease covering them) silent for longer than the threshold. A run under a valid lease is
 * never listed, whatever the threshold.
 */
export const detectInterruptedRuns = async (
  client: OrbitClient,
  options: DetectOptions = {},
): Promise<E.Either<DbFailure, InterruptedRun[]>> => {
  const { db, thresholdMs } = client;
  const dead = await deadOwners(db);
  if (E.isLeft(dead)) return dead;
  const rows = await listInterruptedRuns(db, options.thresholdMs ?? thresholdMs, options.limit ?? 1000, dead.right);
  return E.map((rs: readonly InterruptedRunRow[]) =>
    rs.map((r): InterruptedRun => ({
      runId: r.id,
      pipelineId: r.pipeline_id,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      lastActivityAt: r.last_activity_at.toISOString(),
      completedSteps: r.completed,
      failedSteps: r.failed,
      nextStep: r.ready_steps[0] ?? null,
      readySteps: r.ready_steps,
      nextRetryAt: r.next_retry_at?.toISOString() ?? null,
      owner: r.owner,
      lastSeq: r.last_seq,
      recoveryCount: r.recovery_count,
      reason: r.verdict,
      ownerAlive: r.owner_alive,
    })),
  )(rows);
};

/** Why unfinished runs are not interrupted (what `check-interrupted` says when it finds none). */
export interface UnfinishedSummary {
  /** Runs covered by a valid lease: being executed by live workers. */
  readonly leased: number;
  /** Runs with no valid lease, waiting out the threshold. */
  readonly waiting: number;
  /** Milliseconds until the first waiting run becomes interrupted (null when none waits). */
  readonly nextInMs: number | null;
  /** A threshold that would list every waiting run now (null when none waits). */
  readonly listingThresholdMs: number | null;
}

/** Counts unfinished runs that are not interrupted, by reason (one query, the same rule). */
export const summarizeUnfinished = async (
  client: OrbitClient,
  options: { readonly thresholdMs?: number } = {},
): Promise<E.Either<DbFailure, UnfinishedSummary>> => {
  const { db, thresholdMs } = client;
  const dead = await deadOwners(db);
  if (E.isLeft(dead)) return dead;
  const rows = await countUnfinishedRuns(db, options.thresholdMs ?? thresholdMs, dead.right);
  return E.map((rs: readonly UnfinishedCountsRow[]): UnfinishedSummary => {
    const r = rs[0] ?? { leased: 0, waiting: 0, next_ms: null, min_idle_ms: null };
    // Whole seconds (or milliseconds below one), rounded down so that the suggestion does list them.
    const idle = r.min_idle_ms;
    const listing = idle === null ? null : idle >= 2000 ? Math.floor(idle / 1000) * 1000 : Math.max(1, Math.floor(idle));
    return {
      leased: r.leased,
      waiting: r.waiting,
      nextInMs: r.next_ms === null ? null : Math.max(0, Math.ceil(r.next_ms)),
      listingThresholdMs: listing,
    };
  })(rows);
};

/** A run that ended with failed steps: the spec's limitation flow starts from these. */
export interface FailedRun {
  readonly runId: string;
  readonly pipelineId: string;
  readonly finishedAt: string | null;
  readonly failedSteps: readonly { readonly name: string; readonly error: string | null }[];
}

/** The newest runs that failed with failed steps, and how many there are in all. */
export interface RecentFailedRuns {
  readonly runs: readonly FailedRun[];
  /** Every such run in the window, of which `runs` holds the newest `limit`. */
  readonly total: number;
}

/** Runs that failed with failed steps in the last `withinMs` (default a day), newest first (at most `limit`, default 20). */
export const recentFailedRuns = async (
  client: OrbitClient,
  options: { readonly withinMs?: number; readonly limit?: number } = {},
): Promise<E.Either<DbFailure, RecentFailedRuns>> => {
  const { db } = client;
  const rows = await listRecentFailedRuns(db, options.withinMs ?? 86_400_000, options.limit ?? 20);
  return E.map((rs: readonly FailedRunRow[]): RecentFailedRuns => ({
    runs: rs.map((r): FailedRun => ({
      runId: r.id,
      pipelineId: r.pipeline_id,
      finishedAt: r.finished_at?.toISOString() ?? null,
      failedSteps: r.steps,
    })),
    total: rs[0]?.total ?? 0,
  }))(rows);
};
