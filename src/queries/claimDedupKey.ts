import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * How long a key may name a run that was never created (its enqueue died between taking the key
 * and journaling the run) before another enqueue may take the key over.
 */
export const ABANDONED_KEY_MS = 60_000;

/**
 * Takes a pipeline's deduplication key (dedup_keys, sql/017) for `runId`, unless it names a run
 * that has not ended. Returns `{ taken: true }` when the key is now `runId`'s, else the run it
 * names (the run to return instead of creating a second). One statement: two concurrent enqueues
 * of the same key serialize on its row, and the second sees the first's run.
 */
export const claimDedupKey = async (
  db: Database,
  pipelineId: string,
  dedupKey: string,
  runId: string,
): Promise<E.Either<DbFailure, { readonly taken: boolean; readonly runId: string }>> => {
  const taken = await query<{ run_id: string }>(
    db,
    `INSERT INTO ${db.qs}.dedup_keys AS k (pipeline_id, dedup_key, run_id) VALUES ($1, $2, $3)
     ON CONFLICT (pipeline_id, dedup_key) DO UPDATE SET run_id = EXCLUDED.run_id, created_at = now()
      WHERE EXISTS (SELECT 1 FROM ${db.qs}.runs x
                     WHERE x.id = k.run_id AND x.status IN ('success', 'failed', 'cancelled'))
         OR (NOT EXISTS (SELECT 1 FROM ${db.qs}.runs x WHERE x.id = k.run_id)
             AND k.created_at < now() - $4::float8 * interval '1 millisecond')
     RETURNING run_id`,
    [pipelineId, dedupKey, runId, ABANDONED_KEY_MS],
  );
  if (E.isLeft(taken)) return taken;
  if (taken.right.length > 0) return E.right({ taken: true, runId });
  const existing = await query<{ run_id: string }>(
    db,
    `SELECT run_id FROM ${db.qs}.dedup_keys WHERE pipeline_id = $1 AND dedup_key = $2`,
    [pipelineId, dedupKey],
  );
  if (E.isLeft(existing)) return existing;
  const other = existing.right[0]?.run_id;
  // Taken over and released again between the two statements: try once more.
  if (other === undefined) return claimDedupKey(db, pipelineId, dedupKey, runId);
  return E.right({ taken: false, runId: other });
};

/** Gives a key back when the run it was taken for could not be created. */
export const releaseDedupKey = (db: Database, pipelineId: string, dedupKey: string, runId: string) =>
  query(db, `DELETE FROM ${db.qs}.dedup_keys WHERE pipeline_id = $1 AND dedup_key = $2 AND run_id = $3`, [
    pipelineId,
    dedupKey,
    runId,
  ]);
