import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import type { EventRow } from '../events/decodeRow';

/**
 * One line of an export: one journal event with its stored hash. `payloadText` is the payload
 * exactly as PostgreSQL prints the jsonb (the text the hash covers); `payload` is the same value
 * parsed, for people and jq.
 */
export const ExportedEvent = t.type({
  runId: t.string,
  seq: t.number,
  type: t.string,
  stepName: t.union([t.string, t.null]),
  attempt: t.union([t.number, t.null]),
  payload: t.unknown,
  payloadText: t.string,
  occurredAt: t.string,
  writer: t.string,
  eventId: t.string,
  /** sha256, hex, chained to the previous event of the run (the `hash` column). */
  hash: t.string,
});
export type ExportedEvent = t.TypeOf<typeof ExportedEvent>;

/**
 * The journal's `event_hash`, recomputed outside the database (sql/001_journal.sql): sha256 of the
 * previous hash followed by the fields joined with U+001F, the time as epoch milliseconds.
 */
export const eventHashHex = (prevHex: string | null, e: ExportedEvent): string => {
  const fields = [
    e.runId,
    String(e.seq),
    e.type,
    e.stepName ?? '',
    e.attempt === null ? '' : String(e.attempt),
    e.payloadText,
    String(Date.parse(e.occurredAt)),
    e.writer,
    e.eventId,
  ].join('\u001f');
  return createHash('sha256')
    .update(Buffer.concat([prevHex === null ? Buffer.alloc(0) : Buffer.from(prevHex, 'hex'), Buffer.from(fields, 'utf8')]))
    .digest('hex');
};

/** The row `decodeEventRow` expects, from an exported event. */
export const toEventRow = (e: ExportedEvent): EventRow => ({
  run_id: e.runId,
  seq: e.seq,
  type: e.type,
  step_name: e.stepName,
  attempt: e.attempt,
  payload: e.payload,
  occurred_at: new Date(e.occurredAt),
  writer: e.writer,
  event_id: e.eventId,
});
