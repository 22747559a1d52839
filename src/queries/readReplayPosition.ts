import { query, type Database } from '../db/database';

/** Where a server stands in the WAL: a standby's last replayed position and transaction, a primary's current position. */
export const readReplayPosition = (db: Database) =>
  query<{ standby: boolean; lsn: string | null; replayed_at: Date | null; now: Date }>(
    db,
    `SELECT pg_is_in_recovery() AS standby,
            (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn,
            pg_last_xact_replay_timestamp() AS replayed_at, now() AS now`,
  );
