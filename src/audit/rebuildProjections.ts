import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { withTransaction } from '../db/database';
import type { DbFailure, RunNotFound } from '../errors';
import { toRunRow, toStepRow, type RunRow, type StepRow } from '../fold/projectionRows';
import { deleteOrphanProjectionRows } from '../queries/deleteOrphanProjectionRows';
import { deleteStepRows } from '../queries/deleteStepRows';
import { insertStepRows } from '../queries/insertProjectionRows';
import { listJournaledRunIds } from '../queries/listJournaledRunIds';
import { listOrphanProjectionRunIds } from '../queries/listOrphanProjectionRunIds';
import { lockRunRows } from '../queries/lockRunRows';
import { upsertRunRows } from '../queries/upsertRunRows';
import { forEachPage } from '../util/forEachPage';
import { auditRunJournal } from './auditRun';
import { describeProblem } from './problems';

export interface RebuildReport {
  readonly runsRebuilt: number;
  /** Projection rows removed because no journal events back them. */
  readonly orphansRemoved: number;
  /** Runs whose journal does not verify, left as they were (without `includeBroken`). */
  readonly skipped: readonly SkippedRun[];
}

/** A run a rebuild did not touch, and why. */
export interface SkippedRun {
  readonly runId: string;
  /** The journal's first problem, e.g. `run r-3 seq 6: seq gap: seq 5 is missing`. */
  readonly reason: string;
}

export interface RebuildOptions {
  /**
   * Also rebuild runs whose journal does not verify, from the longest prefix that does: an event
   * that is hash-broken, undecodable or illegal (and everything after it) is never copied into
   * the projections. Default false: such runs are skipped and named, their rows left as they are,
   * since the projection may be the only copy of the run that was not tampered with.
   */
  readonly includeBroken?: boolean;
}

const PAGE = 200;

/**
 * Recreates `runs` and `steps` from the journal with the same fold the append path uses, a page
 * of runs per transaction. The journal is only read. Concurrent appends to a run being rebuilt
 * are safe: its runs row is locked while it is rewritten, and the fold is read inside that lock.
 */
export const rebuildProjections = async (
  db: Database,
  opts: RebuildOptions = {},
): Promise<E.Either<DbFailure | RunNotFound, RebuildReport>> => {
  let rebuilt = 0;
  const skipped: SkippedRun[] = [];
  // Every run with events, even one whose seq 1 was deleted (it is then skipped and named).
  const pages = await forEachPage<DbFailure | RunNotFound, string>(
    '',
    (after) => listJournaledRunIds(db, after, PAGE),
    async (ids) => {
      const r = await rebuildRuns(db, ids, opts);
      if (E.isRight(r)) {
        rebuilt += ids.length - r.right.length;
        skipped.push(...r.right);
      }
      return r;
    },
  );
  if (E.isLeft(pages)) return pages;
  // Projection rows with no journal behind them may be all that is left of a deleted run: kept
  // and named unless the caller asked to include broken runs.
  if (opts.includeBroken !== true) {
    const orphans = await listOrphanProjectionRunIds(db);
    if (E.isLeft(orphans)) return orphans;
    for (const { id } of orphans.right) {
      skipped.push({ runId: id, reason: `run ${id}: projection rows with no journal events behind them (kept)` });
    }
    return E.right({ runsRebuilt: rebuilt, orphansRemoved: 0, skipped });
  }
  const orphans = await withTransaction(db, (client) => deleteOrphanProjectionRows(db, client));
  return E.map((orphansRemoved: number) => ({ runsRebuilt: rebuilt, orphansRemoved, skipped }))(orphans);
};

/**
 * Rebuilds the projection rows of the given runs in one transaction, reading their journals
 * through the same connection after locking their runs rows, so no append slips in between.
 * Each journal is verified first (hash chain, decoding, legality); returns the runs it skipped.
 */
export const rebuildRuns = (
  db: Database,
  runIds: readonly string[],
  opts: RebuildOptions = {},
): Promise<E.Either<DbFailure | RunNotFound, SkippedRun[]>> =>
  withTransaction(db, async (client): Promise<E.Either<DbFailure | RunNotFound, SkippedRun[]>> => {
    const locked = await lockRunRows(db, runIds, client);
    if (E.isLeft(locked)) return locked;
    const runRows: RunRow[] = [];
    const stepRows: StepRow[] = [];
    const skipped: SkippedRun[] = [];
    const rebuiltIds: string[] = [];
    for (const id of runIds) {
      const audit = await auditRunJournal(db, id, client);
      if (E.isLeft(audit)) return audit;
      const { problems, verifiedState } = audit.right;
      const first = problems[0];
      if (first !== undefined && (opts.includeBroken !== true || verifiedState === null)) {
        skipped.push({ runId: id, reason: describeProblem(first) });
        continue;
      }
      if (verifiedState === null) return E.left({ _tag: 'RunNotFound', runId: id });
      rebuiltIds.push(id);
      runRows.push(toRunRow(verifiedState));
      for (const s of verifiedState.steps) stepRows.push(toStepRow(id, s));
    }
    // Runs rows are rewritten in place, never deleted (see upsertRunRows); steps rows are replaced.
    const written = await upsertRunRows(db, runRows, client);
    if (E.isLeft(written)) return written;
    const deleted = await deleteStepRows(db, rebuiltIds, client);
    if (E.isLeft(deleted)) return deleted;
    const inserted = await insertStepRows(db, stepRows, client);
    if (E.isLeft(inserted)) return inserted;
    return E.right(skipped);
  });
