import { hostname } from 'node:os';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import { provablyGone } from '../executor/processIdentity';

/**
 * What `run_liveness` (sql/006_leases.sql, the one place the rule is written) says of a run.
 * `released`, `dead` and `stale` are interrupted; `leased` and `waiting` are not.
 */
export type Verdict = 'finished' | 'queued' | 'released' | 'dead' | 'leased' | 'stale' | 'waiting';

export const INTERRUPTED_VERDICTS: readonly Verdict[] = ['released', 'dead', 'stale'];

export interface Liveness {
  readonly verdict: Verdict;
  readonly interrupted: boolean;
  readonly owner: string | null;
  readonly lastActivityAt: string | null;
  /** Until when the owner's lease protects the run (null when no valid lease covers it). */
  readonly leaseUntil: string | null;
}

/** Owners (worker ids) registered on this host whose process no longer exists. */
export const deadOwners = async (db: Database): Promise<E.Either<OrbitError, string[]>> => {
  const rows = await query<{ id: string; host: string; pid: number; identity: string | null }>(
    db,
    `SELECT id, host, pid, identity FROM ${db.qs}.workers WHERE host = $1`,
    [hostname()],
  );
  return E.map((rs: { id: string; host: string; pid: number; identity: string | null }[]) =>
    rs.filter((r) => provablyGone(r.host, r.pid, r.identity)).map((r) => r.id),
  )(rows);
};

/** The liveness rule of `detectInterruptedRuns`, for one run (database clock). */
export const runLiveness = async (db: Database, runId: string, thresholdMs: number): Promise<E.Either<OrbitError, Liveness>> => {
  const dead = await deadOwners(db);
  if (E.isLeft(dead)) return dead;
  type Row = { verdict: Verdict; owner: string | null; last_activity_at: Date | null; lease_until: Date | null };
  const rows = await query<Row>(
    db,
    `SELECT l.verdict, r.owner, l.last_activity_at, l.lease_until
       FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $2, $3) l
      WHERE r.id = $1`,
    [runId, thresholdMs, dead.right],
  );
  return E.map((rs: Row[]): Liveness => {
    const r = rs[0];
    return r === undefined
      ? { verdict: 'released', interrupted: true, owner: null, lastActivityAt: null, leaseUntil: null }
      : {
          verdict: r.verdict,
          interrupted: INTERRUPTED_VERDICTS.includes(r.verdict),
          owner: r.owner,
          lastActivityAt: r.last_activity_at?.toISOString() ?? null,
          leaseUntil: r.verdict === 'leased' ? (r.lease_until?.toISOString() ?? null) : null,
        };
  })(rows);
};

/**
 * Milliseconds (database clock) until the earliest moment some unfinished run can become
 * interrupted by the rule: its owner's lease expiry or its threshold deadline, whichever is later,
 * or (owners on this machine) the moment its owner's missed renewal would show it dead.
 * Null when no run is waiting to become interrupted. The recovery worker sleeps this long.
 */
export const msUntilNextInterruption = async (
  db: Database,
  thresholdMs: number,
): Promise<E.Either<OrbitError, number | null>> => {
  const rows = await query<{ ms: number | null }>(
    db,
    `SELECT (extract(epoch FROM min(t.at) - now()) * 1000)::float8 AS ms
       FROM (SELECT l.interruptible_at AS at
               FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, '{}') l
              WHERE r.status IN ('pending', 'running') AND l.verdict IN ('leased', 'waiting')
             UNION ALL
             -- A lease taken for a run whose claim is not journaled yet: that run cannot become
             -- interrupted before this lease expires; look again then.
             SELECT w.lease_until
               FROM ${db.qs}.workers w
              WHERE w.lease_until > now()
                AND EXISTS (SELECT 1 FROM unnest(w.held) h(id)
                             WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.runs r WHERE r.id = h.id AND r.owner = w.id))
             UNION ALL
             -- An owner on this machine can be proven dead at any moment: look again a second
             -- after its next renewal is due (it renews at a third of its lease).
             SELECT w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second'
               FROM ${db.qs}.workers w
              WHERE w.host = $2 AND w.identity IS NOT NULL AND cardinality(w.held) > 0
                AND w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second' > now()) t`,
    [thresholdMs, hostname()],
  );
  return E.map((rs: { ms: number | null }[]) => {
    const ms = rs[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, Math.ceil(ms));
  })(rows);
};
