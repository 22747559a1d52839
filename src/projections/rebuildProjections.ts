import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query, withTransaction } from '../db/database';
import type { OrbitError } from '../errors';
import { loadRunState } from '../journal/loadRunState';
import { toRunRow, toStepRow, type RunRow, type StepRow } from '../fold/projectionRows';

export interface RebuildReport {
  readonly runsRebuilt: number;
  /** Projection rows removed because no journal events back them. */
  readonly orphansRemoved: number;
}

const PAGE = 200;

/**
 * Recreates `runs` and `steps` from the journal with the same fold the append path uses, a page
 * of runs per transaction. The journal is only read. Concurrent appends to a run being rebuilt
 * are safe: its runs row is locked while it is rewritten, and the fold is read inside that lock.
 */
export const rebuildProjections = async (db: Database): Promise<E.Either<OrbitError, RebuildReport>> => {
  let rebuilt = 0;
  let after = '';
  for (;;) {
    const page = await query<{ run_id: string }>(
      db,
      `SELECT run_id FROM ${db.qs}.run_events WHERE seq = 1 AND run_id > $1 ORDER BY run_id LIMIT ${PAGE}`,
      [after],
    );
    if (E.isLeft(page)) return page;
    const ids = page.right.map((r) => r.run_id);
    if (ids.length === 0) break;
    const r = await rebuildRuns(db, ids);
    if (E.isLeft(r)) return r;
    rebuilt += ids.length;
    after = ids[ids.length - 1] as string;
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
  return E.map((orphansRemoved: number) => ({ runsRebuilt: rebuilt, orphansRemoved }))(orphans);
};

/**
 * Rebuilds the projection rows of the given runs in one transaction, reading their journals
 * through the same connection after locking their runs rows, so no append slips in between.
 */
export const rebuildRuns = (db: Database, runIds: readonly string[]): Promise<E.Either<OrbitError, void>> =>
  withTransaction(db, async (client) => {
    await client.query(`SELECT 1 FROM ${db.qs}.runs WHERE id = ANY($1) FOR UPDATE`, [runIds]);
    const runRows: RunRow[] = [];
    const stepRows: StepRow[] = [];
    for (const id of runIds) {
      const state = await loadRunState(db, id, client);
      if (E.isLeft(state)) return state;
      runRows.push(toRunRow(state.right));
      for (const s of state.right.steps) stepRows.push(toStepRow(id, s));
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
    await client.query(`DELETE FROM ${db.qs}.steps WHERE run_id = ANY($1)`, [runIds]);
    await client.query(`INSERT INTO ${db.qs}.steps SELECT * FROM jsonb_populate_recordset(NULL::${db.qs}.steps, $1::jsonb)`, [
      JSON.stringify(stepRows),
    ]);
    return E.right(undefined);
  });
