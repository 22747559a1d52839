import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure, RunNotFound } from '../errors';
import { readExportPage, type ExportRow } from '../queries/readExportPage';
import type { ExportedEvent } from './exportFormat';
import type { ExportSelection } from './exportSelection';

export type { ExportSelection } from './exportSelection';

const PAGE = 2000;

/** An exported event from its row. */
export const toExported = (r: ExportRow): ExportedEvent => ({
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

/**
 * The selected runs' events, a batch at a time (keyset on run_id, seq: memory stays flat), as
 * stored, hashes included. A run id with no events is RunNotFound.
 */
export async function* exportRuns(
  db: Database,
  sel: ExportSelection,
): AsyncGenerator<E.Either<DbFailure | RunNotFound, ExportedEvent[]>> {
  const read = (runIds: readonly string[] | null, afterRun: string, afterSeq: number) =>
    readExportPage(db, { runIds, since: sel.since ?? null, afterRun, afterSeq, limit: PAGE });
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
      const last = rows.right[rows.right.length - 1] as ExportRow;
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
