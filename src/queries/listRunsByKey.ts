import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/**
 * Unfinished runs (of `pipelineId` when given) whose metadata contains `key` (JSON containment,
 * `metadata @> key`): how a sender who knows a business key, not the run id, finds the run an
 * event is for (`sendEvent`, `orbit send --key`). At most `limit`, oldest first.
 */
export const listRunsByKey = async (
  db: Database,
  key: Readonly<Record<string, unknown>>,
  pipelineId: string | null,
  limit: number,
): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string }[]) => rs.map((r) => r.id))(
    await query<{ id: string }>(
      db,
      `SELECT r.id FROM ${db.qs}.runs r
        WHERE r.status IN ('pending', 'running', 'sleeping', 'waiting') AND r.metadata @> $1::jsonb
          AND ($2::text IS NULL OR r.pipeline_id = $2)
        ORDER BY r.started_at, r.id LIMIT $3`,
      [JSON.stringify(key), pipelineId, limit],
    ),
  );
