import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import type { ExportedEvent } from './exportFormat';

export interface ExportSelection {
  /** These runs, in this order. Without: every run (in id order). */
  readonly runIds?: readonly string[];
  /** With every run: only runs created at or after this time (ISO-8601). */
  readonly since?: string;
}

interface Row {
  run_id: string;
  seq: number;
  type: string;
  step_name: string | null;
  attempt: number | null;
  payload: unknown;
  payload_text: string;
  occurred_at: Date;
  writer: string;
  event_id: string;
  hash: string;
}

const PAGE = 2000;

/**
 * The selected runs' events, a batch at a time (keyset on run_id, seq: memory stays flat), as
 * stored, hashes included. A run id with no events is RunNotFound.
 */
export async function* exportRuns(db: Database, sel: ExportSelection): AsyncGenerator<E.Either<OrbitError, ExportedEvent[]>> {
  const read = async (runIds: readonly string[] | null, afterRun: string, afterSeq: number) =>
    query<Row>(
      db,
      `SELECT e.run_id, e.seq, e.type, e.step_name, e.attempt, e.payload, e.payload::text AS payload_text, e.occurred_at,
              e.writer, e.event_id, encode(e.hash, 'hex') AS hash
         FROM ${db.qs}.run_events e
        WHERE ($1::text[] IS NULL OR e.run_id = ANY($1))
          AND ($2::timestamptz IS NULL OR EXISTS (
                SELECT 1 FROM ${db.qs}.run_events c WHERE c.run_id = e.run_id AND c.seq = 1 AND c.occurred_at >= $2))
          AND (e.run_id, e.seq) > ($3, $4)
        ORDER BY e.run_id, e.seq LIMIT ${PAGE}`,
      [runIds, sel.since ?? null, afterRun, afterSeq],
    );
  const toExported = (r: Row): ExportedEvent => ({
    runId: r.run_id,
    seq: r.seq,
    type: r.type,
    stepName: r.step_name,
    attempt: r.attempt,
    payload: r.payload,
    payloadText: r.payload_text,
    occurredAt: r.occurred_at.toISOString(),
    writer: r.writer,
    eventId: r.event_id,
    hash: r.hash,
  });
  // Given runs come out in the order given, one run at a time.
  const groups = sel.runIds === undefined ? [null] : sel.runIds.map((id) => [id]);
  for (const ids of groups) {
    let afterRun = '';
    let afterSeq = 0;
    let seen = 0;
    for (;;) {
      const rows = await read(ids, afterRun, afterSeq);
      if (E.isLeft(rows)) {
        yield rows;
        return;
      }
      if (rows.right.length === 0) break;
      seen += rows.right.length;
      yield E.right(rows.right.map(toExported));
      const last = rows.right[rows.right.length - 1] as Row;
      afterRun = last.run_id;
      afterSeq = last.seq;
      if (rows.right.length < PAGE) break;
    }
    if (ids !== null && seen === 0) {
      yield E.left({ _tag: 'RunNotFound', runId: ids[0] as string });
      return;
    }
  }
}
