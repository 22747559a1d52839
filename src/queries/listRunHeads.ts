import { query, type Database } from '../db/database';

/** Every run's head in one statement (one snapshot): its last seq and that event's hash (hex), in id order. */
export const listRunHeads = (db: Database) =>
  query<{ run_id: string; seq: number; hash: string }>(
    db,
    `SELECT DISTINCT ON (run_id) run_id, seq, encode(hash, 'hex') AS hash
       FROM ${db.qs}.run_events ORDER BY run_id, seq DESC`,
  );
