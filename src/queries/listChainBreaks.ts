import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

export interface ChainBreakRow {
  readonly run_id: string;
  readonly seq: number;
  /** The seq the event should have had: its predecessor's + 1 (1 for the first). */
  readonly expected_seq: number;
  readonly kind: 'seq gap' | 'hash mismatch';
}

/**
 * Recomputes the hash chain of the given runs (null: every run) in one statement: every event
 * whose seq does not follow its predecessor's (an event was deleted; also when seq 1 itself is
 * missing) or whose hash does not match its content and its predecessor's hash (an event was
 * edited), in run and seq order.
 */
export const listChainBreaks = (db: Database, runIds: readonly string[] | null, client?: PoolClient) =>
  query<ChainBreakRow>(
    client ?? db,
    `SELECT run_id, seq, expected_seq,
            CASE WHEN seq <> expected_seq THEN 'seq gap' ELSE 'hash mismatch' END AS kind
       FROM (
         SELECT e.run_id, e.seq, e.hash, coalesce(lag(e.seq) OVER w, 0) + 1 AS expected_seq,
                ${db.qs}.event_hash(lag(e.hash) OVER w, e.run_id, e.seq, e.type, e.step_name, e.attempt,
                                    e.payload, e.occurred_at, e.writer, e.event_id) AS recomputed
           FROM ${db.qs}.run_events e
          WHERE ($1::text[] IS NULL OR e.run_id = ANY($1::text[]))
         WINDOW w AS (PARTITION BY e.run_id ORDER BY e.seq)
       ) x
      WHERE seq <> expected_seq OR hash <> recomputed
      ORDER BY run_id, seq`,
    [runIds],
  );
