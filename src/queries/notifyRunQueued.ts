import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/**
 * Tells workers on the schema's channel that a run was queued (ids only, as `append_events` does).
 * On `conn` inside a transaction, the notification goes out when it commits, and only then.
 */
export const notifyRunQueued = (db: Database, runId: string, conn?: PoolClient) =>
  query(conn ?? db, `SELECT pg_notify($1, $2)`, [db.channel, JSON.stringify({ run_id: runId, seq: 1, type: 'run.queued' })]);
