import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { countExecutingRuns } from './executingRuns';
import { waitingOnQueue } from './waitingOnQueue';

/** What a worker can take from the queue: its pipelines' definition hashes, and their concurrency limits. */
export interface Claimable {
  /** Pipeline name → the definition hash this worker executes. */
  readonly executable: Readonly<Record<string, string>>;
  /** Pipeline name → at most this many of its runs executing at once, across all workers. */
  readonly limits: Readonly<Record<string, number>>;
}

/**
 * Up to `max` runs waiting on the queue (waitingOnQueue) that the caller can execute: their
 * pipeline is one of `executable` with the same definition hash. Highest priority first
 * (run_priorities, default 0), then oldest; their `runs` rows locked until the caller's
 * transaction ends. `SKIP LOCKED`: concurrent workers pick different runs. Runs of other pipelines
 * or definitions are never taken, so a worker does not claim (and fail) them again and again
 * (issue 20 item 2).
 *
 * A pipeline with a concurrency limit gets at most `limit - executing` of its runs (executingRuns).
 * The count and the take must not interleave with another worker's, or two workers would each see
 * room for the same last slot: a claim that involves limited pipelines first takes one
 * transaction-level advisory lock of the schema, in a statement of its own, so the counting
 * statement's snapshot sees every earlier claim (committed, its runs in that worker's lease). The
 * lock is held until the caller's transaction commits; claims of unlimited pipelines never take it.
 */
export const lockQueuedRuns = async (
  db: Database,
  max: number,
  claimable: Claimable,
  client: PoolClient,
): Promise<E.Either<DbFailure, string[]>> => {
  const { executable, limits } = claimable;
  const names = Object.keys(executable);
  if (names.length === 0) return E.right([]);
  const limited = names.filter((n) => limits[n] !== undefined);
  if (limited.length > 0) {
    const locked = await query(client, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `orbit.concurrency-limits:${db.qs}`,
    ]);
    if (E.isLeft(locked)) return locked;
  }
  const waiting = waitingOnQueue(db.qs);
  return E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      client,
      `WITH room AS (
         SELECT l.name, l.lim - ${countExecutingRuns(db.qs, 'l.name')} AS n
           FROM unnest($4::text[], $5::int[]) AS l(name, lim)
       ),
       allowed AS (
         SELECT c.id FROM (
           SELECT r.id, r.pipeline_id,
                  row_number() OVER (PARTITION BY r.pipeline_id
                                     ORDER BY coalesce(p.priority, 0) DESC, r.started_at, r.id) AS rn
             FROM ${db.qs}.runs r LEFT JOIN ${db.qs}.run_priorities p ON p.run_id = r.id
            WHERE ${waiting} AND r.pipeline_id = ANY ($4::text[])
         ) c JOIN room ON room.name = c.pipeline_id
          WHERE c.rn <= room.n
       )
       SELECT r.id FROM ${db.qs}.runs r LEFT JOIN ${db.qs}.run_priorities p ON p.run_id = r.id
        WHERE ${waiting}
          AND (r.pipeline_id, r.definition_hash) IN (SELECT * FROM unnest($2::text[], $3::text[]))
          AND (NOT (r.pipeline_id = ANY ($4::text[])) OR r.id IN (SELECT id FROM allowed))
        ORDER BY coalesce(p.priority, 0) DESC, r.started_at, r.id
        LIMIT $1
        FOR UPDATE OF r SKIP LOCKED`,
      [max, names, names.map((n) => executable[n] as string), limited, limited.map((n) => limits[n] as number)],
    ),
  );
};
