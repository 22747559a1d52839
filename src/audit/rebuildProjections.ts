import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query, withTransaction } from '../db/database';
import type { OrbitError } from '../errors';
import { auditRunJournal } from './auditRun';
import { describeProblem } from './problems';
import { toRunRow, toStepRow, type RunRow, type StepRow } from '../fold/projectionRows';

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
): Promise<E.Either<OrbitError, RebuildReport>> => {
  let rebuilt = 0;
  const skipped: SkippedRun[] = [];
  let after = '';
  for (;;) {
    // Every run with events, even one whose seq 1 was deleted (it is then skipped and named).
    const page = await query<{ run_id: string }>(
      db,
      `SELECT DISTINCT run_id FROM ${db.qs}.run_events WHERE run_id > $1 ORDER BY run_id LIMIT ${PAGE}`,
      [after],
    );
    if (E.isLeft(page)) return page;
    const ids = page.right.map((r) => r.run_id);
    if (ids.length === 0) break;
    const r = await rebuildRuns(db, ids, opts);
    if (E.isLeft(r)) return r;
    rebuilt += ids.length - r.right.length;
    skipped.push(...r.right);
    after = ids[ids.length - 1] as string;
  }
  // Projection rows with no journal behind them may be all that is left of a deleted run: kept
  // and named unless the caller asked to include broken runs.
  if (opts.includeBroken !== true) {
    const orphans = await query<{ id: string }>(
      db,
      `SELECT DISTINCT id FROM (
         SELECT id FROM ${db.qs}.runs r WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = r.id)
         UNION SELECT run_id FROM ${db.qs}.steps s WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = s.run_id)) o
       ORDER BY id`,
    );
    if (E.isLeft(orphans)) return orphans;
    for (const o of orphans.right) {
      skipped.push({ runId: o.id, reason: `run ${o.id}: projection rows with no journal events behind them (kept)` });
    }
    return E.right({ runsRebuilt: rebuilt, orphansRemoved: 0, skipped });
  }
  const orphans = await withTransaction(db, async (client) => {
    const steps = await client.query(
      `DELETE FROM ${db.qs}.steps s WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = s.run_id)`,
    );
    const runs = await client.query(
      `DELETE FROM ${db.qs}.runs r WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = r.id)`,
    );
    return E.right((steps.rowCount ?? 0) + (runs.rowCount ?? 0));
  });
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
): Promise<E.Either<OrbitError, SkippedRun[]>> =>
  withTransaction(db, async (client) => {
    await client.query(`SELECT 1 FROM ${db.qs}.runs WHERE id = ANY($1) FOR UPDATE`, [runIds]);
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
    // Runs rows are rewritten in place, never deleted: a writer waiting on one of these rows
    // must find it still there (with an unchanged last_seq), not conclude it lost a race.
    await client.query(
      `INSERT INTO ${db.qs}.runs SELECT * FROM jsonb_populate_recordset(NULL::${db.qs}.runs, $1::jsonb)
       ON CONFLICT (id) DO UPDATE SET
         pipeline_id = EXCLUDED.pipeline_id, status = EXCLUDED.status, triggered_by = EXCLUDED.triggered_by,
         metadata = EXCLUDED.metadata, definition_hash = EXCLUDED.definition_hash, step_names = EXCLUDED.step_names,
         started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, owner = EXCLUDED.owner,
         error = EXCLUDED.error, recovery_count = EXCLUDED.recovery_count, last_seq = EXCLUDED.last_seq,
         last_event_at = EXCLUDED.last_event_at`,
      [JSON.stringify(runRows)],
    );
    await client.query(`DELETE FROM ${db.qs}.steps WHERE run_id = ANY($1)`, [rebuiltIds]);
    await client.query(`INSERT INTO ${db.qs}.steps SELECT * FROM jsonb_populate_recordset(NULL::${db.qs}.steps, $1::jsonb)`, [
      JSON.stringify(stepRows),
    ]);
    return E.right(skipped);
  });
