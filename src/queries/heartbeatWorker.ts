import { query, type Database } from '../db/database';

export interface WorkerHeartbeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** Its process identity (boot id, pid namespace, start time), for proof of death while it is idle; null without /proc. */
  readonly identity: string | null;
  /** The row is presumed alive until `now() + aliveMs` (database clock) unless renewed. */
  readonly aliveMs: number;
  readonly concurrency: number;
  /** Each pipeline the worker can execute: name → definition hash. */
  readonly pipelines: Readonly<Record<string, string>>;
}

/** Registers or renews a worker's row in `worker_registry` (idle workers too). */
export const heartbeatWorker = (db: Database, h: WorkerHeartbeat) =>
  query(
    db,
    `INSERT INTO ${db.qs}.worker_registry AS w (id, host, pid, alive_until, concurrency, pipelines, identity)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000), $5, $6::jsonb, $7)
     ON CONFLICT (id) DO UPDATE
       SET heartbeat_at = now(), alive_until = EXCLUDED.alive_until,
           concurrency = EXCLUDED.concurrency, pipelines = EXCLUDED.pipelines, identity = EXCLUDED.identity`,
    [h.id, h.host, h.pid, h.aliveMs, h.concurrency, JSON.stringify(h.pipelines), h.identity],
  );
