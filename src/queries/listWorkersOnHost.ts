import { query, type Database } from '../db/database';

/** The lease rows registered by processes of one host: what proof of death is checked against. */
export const listWorkersOnHost = (db: Database, host: string) =>
  query<{ id: string; host: string; pid: number; identity: string | null }>(
    db,
    `SELECT id, host, pid, identity FROM ${db.qs}.workers WHERE host = $1`,
    [host],
  );
