import { query, type Database } from '../db/database';

/** An event row as exported: as stored, with the payload's text and the hash (hex). */
export interface ExportRow {
  readonly run_id: string;
  readonly seq: number;
  readonly type: string;
  readonly step_name: string | null;
  readonly attempt: number | null;
  readonly payload: unknown;
  readonly payload_text: string;
  readonly occurred_at: Date;
  readonly writer: string;
  readonly event_id: string;
  readonly hash: string;
}

export interface ExportPageQuery {
  /** These runs; null: every run. */
  readonly runIds: readonly string[] | null;
  /** Only runs created at or after this time (ISO-8601); null: any. */
  readonly since: string | null;
  /** The keyset: rows after (afterRun, afterSeq). */
  readonly afterRun: string;
  readonly afterSeq: number;
  readonly limit: number;
}

/** A page of the selected runs' event rows in (run_id, seq) order: one step of a keyset cursor. */
export const readExportPage = (db: Database, q: ExportPageQuery) =>
  query<ExportRow>(
    db,
    `SELECT e.run_id, e.seq, e.type, e.step_name, e.attempt, e.payload, e.payload::text AS payload_text, e.occurred_at,
            e.writer, e.event_id, encode(e.hash, 'hex') AS hash
       FROM ${db.qs}.run_events e
      WHERE ($1::text[] IS NULL OR e.run_id = ANY($1))
        AND ($2::timestamptz IS NULL OR EXISTS (
              SELECT 1 FROM ${db.qs}.run_events c WHERE c.run_id = e.run_id AND c.seq = 1 AND c.occurred_at >= $2))
        AND (e.run_id, e.seq) > ($3, $4)
      ORDER BY e.run_id, e.seq LIMIT $5`,
    [q.runIds, q.since, q.afterRun, q.afterSeq, q.limit],
  );
