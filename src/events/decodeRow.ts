import * as E from 'fp-ts/Either';
import type { EventDecodeError } from '../errors';
import { firstDecodeFailure } from './decodeErrors';
import { eventCodecs, isRunEventType, type RecordedEvent } from './runEvents';

/** A `run_events` row as `pg` returns it. */
export interface EventRow {
  readonly run_id: unknown;
  readonly seq: unknown;
  readonly type: unknown;
  readonly step_name: unknown;
  readonly attempt: unknown;
  readonly payload: unknown;
  readonly occurred_at: unknown;
  readonly writer: unknown;
  readonly event_id: unknown;
}

/** Journal column names for the codec's field names, so errors name what an auditor can query. */
const COLUMN_OF: Readonly<Record<string, string>> = { stepName: 'step_name', attempt: 'attempt', type: 'type' };

/** Decodes one row into a RecordedEvent, or an EventDecodeError naming run, seq and field. */
export const decodeEventRow = (row: EventRow): E.Either<EventDecodeError, RecordedEvent> => {
  const runId = typeof row.run_id === 'string' ? row.run_id : String(row.run_id);
  const seq = typeof row.seq === 'number' ? row.seq : Number(row.seq);
  const fail = (type: string, field: string, message: string): E.Either<EventDecodeError, RecordedEvent> =>
    E.left({ _tag: 'EventDecodeError', runId, seq, type, field, message });

  if (typeof row.type !== 'string' || !isRunEventType(row.type)) return fail(String(row.type), 'type', 'unknown event type');
  const type = row.type;
  if (!(row.occurred_at instanceof Date) || Number.isNaN(row.occurred_at.getTime())) {
    return fail(type, 'occurred_at', 'not a timestamp');
  }
  if (typeof row.writer !== 'string') return fail(type, 'writer', 'not a string');
  if (typeof row.event_id !== 'string') return fail(type, 'event_id', 'not a uuid');

  // Run-level events have no step columns; leave the keys out rather than present-but-undefined.
  const candidate: Record<string, unknown> = { type, payload: row.payload };
  if (row.step_name !== null && row.step_name !== undefined) candidate.stepName = row.step_name;
  if (row.attempt !== null && row.attempt !== undefined) candidate.attempt = row.attempt;
  if (type.startsWith('step.')) {
    candidate.stepName ??= undefined;
    candidate.attempt ??= undefined;
  }
  const decoded = eventCodecs[type].decode(candidate);
  if (E.isLeft(decoded)) {
    const { path, message } = firstDecodeFailure(decoded.left);
    const field = path.map((k, i) => (i === 0 ? (COLUMN_OF[k] ?? k) : k)).join('.');
    return fail(type, field || 'payload', message);
  }
  return E.right({
    runId,
    seq,
    occurredAt: row.occurred_at.toISOString(),
    writer: row.writer,
    eventId: row.event_id,
    event: decoded.right,
  });
};
