import { query, type Database } from '../db/database';

export interface WorkerRow {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: Date;
  readonly heartbeat_at: Date;
  readonly lease_until: Date;
  readonly held: string[];
  /** Whether the lease is valid now (database clock). */
  readonly live: boolean;
  /** Until the lease expires (ms, database clock; negative once it has). */
  readonly lease_ms: number;
}

/** Every lease row, oldest process first, judged on the database clock. */
export const listWorkers = (db: Database) =>
  query<WorkerRow>(
    db,
    `SELECT id, host, pid, started_at, heartbeat_at, lease_until, held, lease_until > now() AS live,
            (extract(epoch FROM lease_until - now()) * 1000)::float8 AS lease_ms
       FROM ${db.qs}.workers ORDER BY started_at`,
  );
