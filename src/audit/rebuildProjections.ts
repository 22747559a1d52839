import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { withTransaction } from '../db/database';
import type { DbFailure, RunNotFound } from '../errors';
import { toRunRow, toStepRow } from '../fold/projectionRows';
import { deleteOrphanProjectionRows } from '../queries/deleteOrphanProjectionRows';
import { deleteStepRowsExcept } from '../queries/deleteStepRowsExcept';
import { listStepNames } from '../queries/listStepNames';
import { listJournaledRunIds } from '../queries/listJournaledRunIds';
import { listOrphanProjectionRunIds } from '../queries/listOrphanProjectionRunIds';
import { lockRunRows } from '../queries/lockRunRows';
import { upsertRunRows } from '../queries/upsertRunRows';
import { upsertStepRows } from '../queries/upsertStepRows';
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
  /** Only these runs (default: every run with journal events, and orphan projection rows). */
  readonly runIds?: readonly string[];
  /**
   * Runs to leave alone, with the reason (e.g. what a checkpoint flagged): a re-hashed journal
   * verifies, and rebuilding from it would erase the projection, the last trace of the original.
   */
  readonly exclude?: ReadonlyMap<string, string>;
}

const PAGE = 200;

/** Why one run could not be rebuilt, from the statement that failed; null: a failure that stops the rebuild. */
const skipReason = (runId: string, e: DbFailure): string | null => {
  if (e._tag !== 'DatabaseError') return null;
  switch (e.code) {
    case '54000':
    case '54001':
      return `run ${runId}: a value is over PostgreSQL's limits (${e.code}: ${e.message}); its rows were left as they were`;
    case '42501':
      return `run ${runId}: permission denied (${e.message}); a rebuild needs the select privilege on run_events and select, insert and update on runs and steps (delete on steps only to remove step rows the journal does not have)`;
    default:
      return `run ${runId}: ${e.message}${e.code === undefined ? '' : ` (${e.code})`}; its rows were left as they were`;
  }
};

/**
 * Recreates `runs` and `steps` from the journal with the same fold the append path uses, one run
 * per transaction: a run that cannot be rebuilt (a value over jsonb's limits, a missing privilege,
 * a journal that does not verify, a run the caller excludes) is skipped and named, and the others
 * are still rebuilt. The journal is only read. Concurrent appends to a run being rebuilt are safe:
 * its runs row is locked while it is rewritten, and the fold is read inside that lock.
 */
export const rebuildProjections = async (
  db: Database,
  opts: RebuildOptions = {},
): Promise<E.Either<DbFailure | RunNotFound, RebuildReport>> => {
  let rebuilt = 0;
  const skipped: SkippedRun[] = [];
  const visit = async (ids: readonly string[]): Promise<E.Either<DbFailure | RunNotFound, void>> => {
    for (const id of ids) {
      const excluded = opts.exclude?.get(id);
      if (excluded !== undefined) {
        skipped.push({ runId: id, reason: `run ${id}: ${excluded}` });
        continue;
      }
      const r = await rebuildRun(db, id, opts);
      if (E.isLeft(r)) {
        const reason = r.left._tag === 'RunNotFound' ? null : skipReason(id, r.left);
        if (reason === null) return r;
        skipped.push({ runId: id, reason });
      } else if (r.right === null) rebuilt += 1;
      else skipped.push(r.right);
    }
    return E.right(undefined);
  };
  // Every run with events, even one whose seq 1 was deleted (it is then skipped and named).
  const pages =
    opts.runIds !== undefined
      ? await visit(opts.runIds)
      : await forEachPage<DbFailure | RunNotFound, string>('', (after) => listJournaledRunIds(db, after, PAGE), visit);
  if (E.isLeft(pages)) return pages;
  if (opts.runIds !== undefined) return E.right({ runsRebuilt: rebuilt, orphansRemoved: 0, skipped });
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
  if (E.isLeft(orphans) && orphans.left._tag === 'DatabaseError' && orphans.left.code === '42501') {
    skipped.push({
      runId: '(orphans)',
      reason: `projection rows with no journal were kept: removing them needs the delete privilege on runs and steps (${orphans.left.message})`,
    });
    return E.right({ runsRebuilt: rebuilt, orphansRemoved: 0, skipped });
  }
  return E.map((orphansRemoved: number) => ({ runsRebuilt: rebuilt, orphansRemoved, skipped }))(orphans);
};

/**
 * Rebuilds one run's projection rows in one transaction, reading its journal through the same
 * connection after locking its runs row, so no append slips in between. The journal is verified
 * first (hash chain, decoding, legality); returns the skip when it does not, null when rebuilt.
 */
export const rebuildRun = (
  db: Database,
  runId: string,
  opts: Pick<RebuildOptions, 'includeBroken'> = {},
): Promise<E.Either<DbFailure | RunNotFound, SkippedRun | null>> =>
  withTransaction(db, async (client): Promise<E.Either<DbFailure | RunNotFound, SkippedRun | null>> => {
    const locked = await lockRunRows(db, [runId], client);
    if (E.isLeft(locked)) return locked;
    const audit = await auditRunJournal(db, runId, client);
    if (E.isLeft(audit)) return audit;
    const { problems, verifiedState, eventCount } = audit.right;
    if (eventCount === 0) return E.right({ runId, reason: `run ${runId}: no journal events` });
    const first = problems[0];
    if (first !== undefined && (opts.includeBroken !== true || verifiedState === null)) {
      return E.right({ runId, reason: describeProblem(first) });
    }
    if (verifiedState === null) return E.left({ _tag: 'RunNotFound', runId });
    // Runs rows are rewritten in place, never deleted (see upsertRunRows); so are steps rows.
    const written = await upsertRunRows(db, [toRunRow(verifiedState)], client);
    if (E.isLeft(written)) return written;
    const steps = verifiedState.steps.map((s) => toStepRow(runId, s));
    const upserted = await upsertStepRows(db, steps, client);
    if (E.isLeft(upserted)) return upserted;
    // Only rows the journal does not have need the delete privilege: the runtime role rebuilds without it.
    const names = await listStepNames(db, runId, client);
    if (E.isLeft(names)) return names;
    const keep = new Set(steps.map((s) => s.name));
    if (names.right.some((n) => !keep.has(n.name))) {
      const deleted = await deleteStepRowsExcept(db, runId, [...keep], client);
      if (E.isLeft(deleted)) return deleted;
    }
    return E.right(null);
  });
