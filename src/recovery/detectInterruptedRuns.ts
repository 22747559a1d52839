import * as E from 'fp-ts/Either';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { deadOwners, INTERRUPTED_VERDICTS } from './liveness';

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
  /** The first step that has not succeeded (null if all have). */
  readonly nextStep: string | null;
  /** Set when the next step is waiting for a scheduled retry. */
  readonly nextRetryAt: string | null;
  /** The worker that last held it (null when it was released on shutdown). */
  readonly owner: string | null;
  /** The run's journal seq when detected; recovery claims only if it is still there. */
  readonly lastSeq: number;
  readonly recoveryCount: number;
  /** Why it is interrupted: released by its worker, its owner's process is gone, or silent past the threshold. */
  readonly reason: 'released' | 'dead' | 'stale';
}

export interface DetectOptions {
  readonly client?: OrbitClient;
  /** No activity for longer than this means interrupted. Default: the client's threshold (10 min). */
  readonly thresholdMs?: number;
  /** At most this many runs, oldest activity first. Default 1,000. */
  readonly limit?: number;
}

interface Row {
  id: string;
  pipeline_id: string;
  status: 'pending' | 'running';
  started_at: Date;
  last_activity_at: Date;
  completed: number;
  failed: number;
  next_step: string | null;
  next_retry_at: Date | null;
  owner: string | null;
  last_seq: number;
  recovery_count: number;
  verdict: 'released' | 'dead' | 'stale';
}

/**
 * Runs that nobody is executing, by the one liveness rule (`run_liveness`, database clock):
 * released by their worker, owned by a process of this machine that no longer exists, or (no
 * valid lease covering them) silent for longer than the threshold. A run under a valid lease is
 * never listed, whatever the threshold.
 */
export const detectInterruptedRuns = async (options: DetectOptions = {}): Promise<E.Either<OrbitError, InterruptedRun[]>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const { db, thresholdMs } = c.right;
  const dead = await deadOwners(db);
  if (E.isLeft(dead)) return dead;
  const rows = await query<Row>(
    db,
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.owner, r.last_seq, r.recovery_count,
            l.last_activity_at, l.verdict,
            st.completed, st.failed, st.next_step, st.next_retry_at
       FROM ${db.qs}.runs r
      CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, $3) l
      CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE s.status = 'success')::int AS completed,
                count(*) FILTER (WHERE s.status = 'failed')::int AS failed,
                (array_agg(s.name ORDER BY s.step_index) FILTER (WHERE s.status <> 'success'))[1] AS next_step,
                min(s.next_retry_at) FILTER (WHERE s.status = 'retrying') AS next_retry_at
           FROM ${db.qs}.steps s
          WHERE s.run_id = r.id) st
      WHERE r.status IN ('pending', 'running')
        AND l.verdict = ANY ($4::text[])
      ORDER BY r.last_event_at
      LIMIT $2`,
    [options.thresholdMs ?? thresholdMs, options.limit ?? 1000, dead.right, INTERRUPTED_VERDICTS],
    `orbit.detect:${db.schema}`,
  );
  return E.map((rs: Row[]) =>
    rs.map((r): InterruptedRun => ({
      runId: r.id,
      pipelineId: r.pipeline_id,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      lastActivityAt: r.last_activity_at.toISOString(),
      completedSteps: r.completed,
      failedSteps: r.failed,
      nextStep: r.next_step,
      nextRetryAt: r.next_retry_at?.toISOString() ?? null,
      owner: r.owner,
      lastSeq: r.last_seq,
      recoveryCount: r.recovery_count,
      reason: r.verdict,
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
  options: { readonly client?: OrbitClient; readonly thresholdMs?: number } = {},
): Promise<E.Either<OrbitError, UnfinishedSummary>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const { db, thresholdMs } = c.right;
  const dead = await deadOwners(db);
  if (E.isLeft(dead)) return dead;
  type Row = { leased: number; waiting: number; next_ms: number | null; min_idle_ms: number | null };
  const rows = await query<Row>(
    db,
    `SELECT count(*) FILTER (WHERE l.verdict = 'leased')::int AS leased,
            count(*) FILTER (WHERE l.verdict = 'waiting')::int AS waiting,
            (extract(epoch FROM min(l.interruptible_at - now()) FILTER (WHERE l.verdict = 'waiting')) * 1000)::float8 AS next_ms,
            (extract(epoch FROM min(now() - l.last_activity_at) FILTER (WHERE l.verdict = 'waiting')) * 1000)::float8 AS min_idle_ms
       FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, $2) l
      WHERE r.status IN ('pending', 'running')`,
    [options.thresholdMs ?? thresholdMs, dead.right],
  );
  return E.map((rs: Row[]): UnfinishedSummary => {
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

/** Runs that failed with failed steps in the last `withinMs` (default a day), newest first. */
export const recentFailedRuns = async (
  options: { readonly client?: OrbitClient; readonly withinMs?: number; readonly limit?: number } = {},
): Promise<E.Either<OrbitError, FailedRun[]>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const { db } = c.right;
  type Row = { id: string; pipeline_id: string; finished_at: Date | null; steps: { name: string; error: string | null }[] };
  const rows = await query<Row>(
    db,
    `SELECT r.id, r.pipeline_id, r.finished_at,
            json_agg(json_build_object('name', s.name, 'error', s.error) ORDER BY s.step_index) AS steps
       FROM ${db.qs}.runs r JOIN ${db.qs}.steps s ON s.run_id = r.id AND s.status = 'failed'
      WHERE r.status = 'failed' AND r.finished_at > now() - make_interval(secs => $1::float8 / 1000)
      GROUP BY r.id
      ORDER BY r.finished_at DESC
      LIMIT $2`,
    [options.withinMs ?? 86_400_000, options.limit ?? 20],
  );
  return E.map((rs: Row[]) =>
    rs.map((r): FailedRun => ({
      runId: r.id,
      pipelineId: r.pipeline_id,
      finishedAt: r.finished_at?.toISOString() ?? null,
      failedSteps: r.steps,
    })),
  )(rows);
};
