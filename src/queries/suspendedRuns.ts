import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * Suspended runs (`sleeping`, `waiting`: sql/016) are woken at the earliest end of a sleep, timeout
 * of a wait, or arrival of the event a step waits for (the fold makes that step due then) among
 * their steps, kept in `steps.next_retry_at` and read through the partial index
 * steps_suspended_by_time. The event's NOTIFY makes workers look at once.
 */
const SUSPENDED_STEPS = (qs: string) =>
  `${qs}.steps s JOIN ${qs}.runs r ON r.id = s.run_id
    WHERE s.status IN ('sleeping', 'waiting') AND s.next_retry_at IS NOT NULL AND r.status IN ('sleeping', 'waiting')`;

export interface DueSuspendedRun {
  readonly runId: string;
  readonly pipelineId: string;
  readonly lastSeq: number;
}

/** Suspended runs whose sleep ended or whose wait timed out (database clock), earliest first. */
export const listDueSuspendedRuns = async (db: Database, limit: number): Promise<E.Either<DbFailure, DueSuspendedRun[]>> =>
  E.map((rs: { id: string; pipeline_id: string; last_seq: number }[]) =>
    rs.map((r) => ({ runId: r.id, pipelineId: r.pipeline_id, lastSeq: r.last_seq })),
  )(
    await query<{ id: string; pipeline_id: string; last_seq: number }>(
      db,
      `SELECT r.id, r.pipeline_id, r.last_seq FROM ${SUSPENDED_STEPS(db.qs)} AND s.next_retry_at <= now()
        GROUP BY r.id, r.pipeline_id, r.last_seq ORDER BY min(s.next_retry_at) LIMIT $1`,
      [limit],
    ),
  );
