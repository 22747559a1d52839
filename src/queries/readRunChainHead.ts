import { query, type Database } from '../db/database';

/** A run's last event's seq and hash (hex): the head of its hash chain. */
export const readRunChainHead = (db: Database, runId: string) =>
  query<{ seq: number; hash: string }>(
    db,
    `SELECT seq, encode(hash, 'hex') AS hash FROM ${db.qs}.run_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`,
    [runId],
  );
