import type { Database } from '../db/database';

export interface LeaseRenewal {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  /** The process's start identity (boot id, pid namespace, start time), for proof of death. */
  readonly identity: string | null;
  readonly leaseMs: number;
  /** Exactly the runs the process still executes. */
  readonly held: readonly string[];
  /** A run just added to the lease: announced on the schema's channel (ids only). Null: none. */
  readonly taken: string | null;
}

/**
 * Registers or renews a process's lease row: `lease_until = now() + lease` on the database clock.
 * Throws on failure (the lease's watchdog, not a retry, handles a renewal that does not succeed).
 */
export const renewLease = async (db: Database, r: LeaseRenewal): Promise<void> => {
  await db.pool.query({
    name: `orbit.lease:${db.schema}`,
    text: `WITH up AS (
             INSERT INTO ${db.qs}.workers AS w (id, host, pid, identity, lease_until, held)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8 / 1000), $6)
             ON CONFLICT (id) DO UPDATE
               SET heartbeat_at = now(), lease_until = EXCLUDED.lease_until, held = EXCLUDED.held
             RETURNING 1)
           SELECT pg_notify($7, json_build_object('run_id', $8::text, 'seq', 0, 'type', 'lease.taken')::text)
             FROM up WHERE $8::text IS NOT NULL`,
    values: [r.workerId, r.host, r.pid, r.identity, r.leaseMs, [...r.held], db.channel, r.taken],
  });
};
