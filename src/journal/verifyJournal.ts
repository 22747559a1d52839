import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';

/** An event whose stored hash is not what its content and its predecessor say it should be. */
export interface ChainBreak {
  readonly runId: string;
  readonly seq: number;
  readonly reason: 'hash mismatch' | 'seq gap';
}

/**
 * Recomputes the hash chain of one run (or of every run) in the database. Any edit of an event
 * after it was written (which needs a superuser to disable the trigger) breaks the chain at that
 * event; a deleted event shows as a seq gap.
 */
export const verifyJournal = async (db: Database, runId?: string): Promise<E.Either<OrbitError, ChainBreak[]>> => {
  const rows = await query<{ run_id: string; seq: number; reason: ChainBreak['reason'] }>(
    db,
    `SELECT run_id, seq, CASE WHEN seq <> coalesce(prev_seq, 0) + 1 THEN 'seq gap' ELSE 'hash mismatch' END AS reason
       FROM (
         SELECT e.*, lag(e.hash) OVER w AS prev_hash, lag(e.seq) OVER w AS prev_seq
           FROM ${db.qs}.run_events e
          WHERE ($1::text IS NULL OR e.run_id = $1)
         WINDOW w AS (PARTITION BY e.run_id ORDER BY e.seq)
       ) x
      WHERE seq <> coalesce(prev_seq, 0) + 1
         OR hash <> ${db.qs}.event_hash(prev_hash, run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id)
      ORDER BY run_id, seq`,
    [runId ?? null],
  );
  return E.map((rs: { run_id: string; seq: number; reason: ChainBreak['reason'] }[]) =>
    rs.map((r): ChainBreak => ({ runId: r.run_id, seq: r.seq, reason: r.reason })),
  )(rows);
};
