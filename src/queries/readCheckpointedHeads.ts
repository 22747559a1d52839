import { query, type Database } from '../db/database';

export interface CheckpointedHeadRow {
  readonly run_id: string;
  /** The run's last seq at the checkpoint. */
  readonly seq: number;
  /** Its head hash at the checkpoint (hex). */
  readonly head: string;
  /** The hash stored now at that seq (hex), null when that event is gone. */
  readonly hash: string | null;
  /** Events at or before that seq now. */
  readonly events: number;
  /** Events of the run now. */
  readonly present: number;
}

/** For each run of a checkpoint (id, last seq, head hash), what the journal holds now, in id order. */
export const readCheckpointedHeads = (
  db: Database,
  heads: readonly { readonly runId: string; readonly lastSeq: number; readonly headHash: string }[],
) =>
  query<CheckpointedHeadRow>(
    db,
    `SELECT c.run_id, c.seq, c.head, encode(e.hash, 'hex') AS hash,
            (SELECT count(*)::int FROM ${db.qs}.run_events x WHERE x.run_id = c.run_id AND x.seq <= c.seq) AS events,
            (SELECT count(*)::int FROM ${db.qs}.run_events x WHERE x.run_id = c.run_id) AS present
       FROM unnest($1::text[], $2::int[], $3::text[]) AS c(run_id, seq, head)
       LEFT JOIN ${db.qs}.run_events e ON e.run_id = c.run_id AND e.seq = c.seq
      ORDER BY c.run_id`,
    [heads.map((r) => r.runId), heads.map((r) => r.lastSeq), heads.map((r) => r.headHash)],
  );
