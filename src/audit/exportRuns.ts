import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure, RunNotFound } from '../errors';
import { listExportRunIdsSince, listJournaledOf } from '../queries/exportRunIds';
import { listJournaledRunIds } from '../queries/listJournaledRunIds';
import { readExportPage, readExportPageAll, readExportPageInOrder, type ExportRow } from '../queries/readExportPage';
import type { ExportedEvent } from './exportFormat';
import type { ExportSelection } from './exportSelection';

export type { ExportSelection } from './exportSelection';

/** Runs per batch: one query lists them, their events come in pages of PAGE rows. */
export const EXPORT_RUNS = 500;
/** Event rows per query. */
export const EXPORT_ROWS = 2000;

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
 * One batch of runs' events, each run's by seq: pages of at most EXPORT_ROWS rows on a keyset,
 * so a batch of long runs is still read a page at a time. `idOrder`: the batch came from the
 * database in id order (every run; an archive), read in its key's order; otherwise (runs as
 * named) in the order given, by position in the batch (the database's collation may order ids
 * otherwise than the names were given).
 */
export const exportBatch = (
  db: Database,
  runIds: readonly string[],
  idOrder: boolean,
): AsyncGenerator<E.Either<DbFailure, ExportedEvent[]>> =>
  keysetPages((k) =>
    idOrder
      ? readExportPage(db, { runIds, afterRun: k.afterRun, afterSeq: k.afterSeq, limit: EXPORT_ROWS })
      : readExportPageInOrder(db, { runIds, afterPos: k.afterPos, afterSeq: k.afterSeq, limit: EXPORT_ROWS }),
  );

/** Where a keyset read goes on from: after this run (by id, or by position in a batch) at this seq. */
interface Keyset {
  readonly afterRun: string;
  readonly afterPos: number;
  readonly afterSeq: number;
}

/** Pages of EXPORT_ROWS event rows from `read`, each read after the last row of the one before, until a short page. */
async function* keysetPages(
  read: (k: Keyset) => Promise<E.Either<DbFailure, (ExportRow & { readonly pos?: number })[]>>,
): AsyncGenerator<E.Either<DbFailure, ExportedEvent[]>> {
  let k: Keyset = { afterRun: '', afterPos: 0, afterSeq: 0 };
  for (;;) {
    const rows = await read(k);
    if (E.isLeft(rows)) {
      yield rows;
      return;
    }
    const last = rows.right[rows.right.length - 1];
    if (last === undefined) return;
    yield E.right(rows.right.map(toExported));
    if (rows.right.length < EXPORT_ROWS) return;
    k = { afterRun: last.run_id, afterPos: last.pos ?? 0, afterSeq: last.seq };
  }
}

/** The selection's run ids, a batch at a time (`--since`: keyset pages in id order). */
async function* runBatches(db: Database, sel: ExportSelection): AsyncGenerator<E.Either<DbFailure | RunNotFound, string[]>> {
  if (sel.runIds !== undefined) {
    // Each run once, in the order given; every name checked before anything is read.
    const ids = [...new Set(sel.runIds)];
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += EXPORT_RUNS) batches.push(ids.slice(i, i + EXPORT_RUNS));
    for (const batch of batches) {
      const found = await listJournaledOf(db, batch);
      if (E.isLeft(found)) {
        yield found;
        return;
      }
      const have = new Set(found.right);
      const missing = batch.find((id) => !have.has(id));
      if (missing !== undefined) {
        yield E.left({ _tag: 'RunNotFound', runId: missing });
        return;
      }
    }
    yield* batches.map((b) => E.right(b));
    return;
  }
  const since = sel.since;
  let after = '';
  for (;;) {
    const page =
      since === undefined
        ? await listJournaledRunIds(db, after, EXPORT_RUNS)
        : await listExportRunIdsSince(db, since, after, EXPORT_RUNS);
    if (E.isLeft(page)) {
      yield page;
      return;
    }
    const last = page.right[page.right.length - 1];
    if (last === undefined) return;
    yield E.right(page.right);
    if (page.right.length < EXPORT_RUNS) return;
    after = last;
  }
}

/** Every run's events, the whole journal on one keyset cursor in (run_id, seq) order, a page at a time. */
const everyEvent = (db: Database): AsyncGenerator<E.Either<DbFailure, ExportedEvent[]>> =>
  keysetPages((k) => readExportPageAll(db, { afterRun: k.afterRun, afterSeq: k.afterSeq, limit: EXPORT_ROWS }));

/**
 * The selected runs' events as stored, hashes included, a page at a time: runs in batches of
 * EXPORT_RUNS (every run: keyset pages of ids; named runs: in the order named, each once, all
 * checked first), each batch's events in pages of at most EXPORT_ROWS rows. Memory stays flat
 * whatever the number of runs; about (runs / EXPORT_RUNS) + (events / EXPORT_ROWS) queries. A
 * named run with no events is RunNotFound, before any event is yielded.
 */
export async function* exportRuns(
  db: Database,
  sel: ExportSelection,
): AsyncGenerator<E.Either<DbFailure | RunNotFound, ExportedEvent[]>> {
  if (sel.runIds === undefined && sel.since === undefined) {
    yield* everyEvent(db);
    return;
  }
  for await (const batch of runBatches(db, sel)) {
    if (E.isLeft(batch)) {
      yield batch;
      return;
    }
    for await (const page of exportBatch(db, batch.right, sel.runIds === undefined)) {
      yield page;
      if (E.isLeft(page)) return;
    }
  }
}
