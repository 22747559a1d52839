import { query, type Database } from '../db/database';

export interface WorkerHeartbeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
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
    `INSERT INTO ${db.qs}.worker_registry AS w (id, host, pid, alive_until, concurrency, pipelines)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000), $5, $6::jsonb)
     ON CONFLICT (id) DO UPDATE
       SET heartbeat_at = now(), alive_until = EXCLUDED.alive_until,
           concurrency = EXCLUDED.concurrency, pipelines = EXCLUDED.pipelines`,
    [h.id, h.host, h.pid, h.aliveMs, h.concurrency, JSON.stringify(h.pipelines)],
  );
