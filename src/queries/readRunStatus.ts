import { query, type Database } from '../db/database';
import type { RunStatus } from '../fold/runState';

/** A run's status and error from its `runs` row (no row: no such run). */
export const readRunStatus = (db: Database, runId: string) =>
  query<{ status: RunStatus; error: string | null }>(db, `SELECT status, error FROM ${db.qs}.runs WHERE id = $1`, [runId]);
