import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import type { AuditProblem } from './problems';

interface BreakRow {
  run_id: string;
  seq: number;
  kind: 'seq gap' | 'hash mismatch';
  expected_seq: number;
}

/**
 * Recomputes the hash chain of the given runs in one statement and reports every event whose
 * seq does not follow its predecessor (an event was deleted) or whose hash does not match its
 * content and its predecessor's hash (an event was edited). A gap is also reported when seq 1
 * itself is missing.
 */
export const chainBreaks = async (
  db: Database,
  runIds: readonly string[],
  client?: PoolClient,
): Promise<E.Either<OrbitError, AuditProblem[]>> => {
  const rows = await query<BreakRow>(
    client ?? db,
    `SELECT run_id, seq, expected_seq,
            CASE WHEN seq <> expected_seq THEN 'seq gap' ELSE 'hash mismatch' END AS kind
       FROM (
         SELECT e.run_id, e.seq, e.hash, coalesce(lag(e.seq) OVER w, 0) + 1 AS expected_seq,
                ${db.qs}.event_hash(lag(e.hash) OVER w, e.run_id, e.seq, e.type, e.step_name, e.attempt,
                                    e.payload, e.occurred_at, e.writer, e.event_id) AS recomputed
           FROM ${db.qs}.run_events e
          WHERE e.run_id = ANY($1::text[])
         WINDOW w AS (PARTITION BY e.run_id ORDER BY e.seq)
       ) x
      WHERE seq <> expected_seq OR hash <> recomputed
      ORDER BY run_id, seq`,
    [runIds],
  );
  return E.map((rs: BreakRow[]) =>
    rs.map((r): AuditProblem => ({
      runId: r.run_id,
      seq: r.seq,
      kind: r.kind,
      detail:
        r.kind === 'seq gap'
          ? r.seq - r.expected_seq === 1
            ? `seq ${r.expected_seq} is missing`
            : `seqs ${r.expected_seq}..${r.seq - 1} are missing`
          : 'the stored hash does not match the event and its predecessor (the event was changed after it was written)',
    })),
  )(rows);
};
