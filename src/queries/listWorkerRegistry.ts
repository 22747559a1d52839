import { query, type Database } from '../db/database';

export interface WorkerRegistryRow {
  readonly id: string;
  /** 'worker': a registered worker (idle or busy); 'process': any other process holding a lease (`orbit run`, `resume`). */
  readonly kind: 'worker' | 'process';
  readonly host: string;
  readonly pid: number;
  readonly started_at: Date;
  readonly heartbeat_at: Date;
  /** The worker's registration (null for a process that only holds a lease). */
  readonly alive_until: Date | null;
  /** Its lease on the runs it executes (null while it holds none). */
  readonly lease_until: Date | null;
  readonly held: string[];
  readonly concurrency: number | null;
  readonly pipelines: Record<string, string> | null;
  /** Whether its registration or its lease is valid now (database clock). */
  readonly live: boolean;
  /** Until the later of the two ends (ms, database clock; negative once it has). */
  readonly until_ms: number;
  /**
   * The process identity (boot id, pid namespace, start time) its lease or its registration
   * recorded, for proof of death; null when neither has one (written before sql/023, no /proc).
   */
  readonly identity: string | null;
}

/**
 * Every registered worker and every lease row, joined by process id, oldest first, judged on the
 * database clock: an idle worker has a registration and no lease, `orbit run` a lease only.
 */
export const listWorkerRegistry = (db: Database) =>
  query<WorkerRegistryRow>(
    db,
    `SELECT coalesce(g.id, l.id) AS id,
            CASE WHEN g.id IS NULL THEN 'process' ELSE 'worker' END AS kind,
            coalesce(g.host, l.host) AS host, coalesce(g.pid, l.pid) AS pid,
            coalesce(g.started_at, l.started_at) AS started_at,
            greatest(g.heartbeat_at, l.heartbeat_at) AS heartbeat_at,
            g.alive_until, l.lease_until, coalesce(l.held, '{}') AS held, g.concurrency, g.pipelines,
            coalesce(g.alive_until > now(), false) OR coalesce(l.lease_until > now(), false) AS live,
            (extract(epoch FROM greatest(g.alive_until, l.lease_until) - now()) * 1000)::float8 AS until_ms,
            coalesce(l.identity, g.identity) AS identity
       FROM ${db.qs}.worker_registry g
       FULL JOIN ${db.qs}.workers l ON l.id = g.id
      ORDER BY 5, 1`,
  );
