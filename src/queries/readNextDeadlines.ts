import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Milliseconds (database clock, may be negative) until each kind of deadline a worker sleeps until; null: none. */
export interface Deadlines {
  /** The earliest moment an unfinished run can become interrupted, or a lease of this host's processes calls for a look. */
  readonly interruption: number | null;
  /** The earliest delayed queued run falls due. */
  readonly delayed: number | null;
  /** The earliest suspended run is due (a sleep ends, a wait times out). */
  readonly wake: number | null;
}

interface Row {
  readonly interruption: number | null;
  readonly delayed: number | null;
  readonly wake: number | null;
}

/**
 * The three deadlines a worker schedules its next wake-up by, in one round trip. `host` is this
 * machine's name, `self` the worker's own lease id: its own process is alive while it asks, and
 * it journals the claim of each run it takes (or drops it), so neither its pending claims nor its
 * own renewal are deadlines for it (they woke an idle worker a lease after its last run). Queued
 * and released runs cannot become interrupted at a time (they are taken as they come): a deep
 * queue costs a scan of its rows and nothing more.
 */
export const readNextDeadlines = async (
  db: Database,
  thresholdMs: number,
  host: string,
  self: string,
): Promise<E.Either<DbFailure, Deadlines>> =>
  E.map((rs: Row[]): Deadlines => rs[0] ?? { interruption: null, delayed: null, wake: null })(
    await query<Row>(
      db,
      // The status list matches the partial index runs_unfinished_by_activity (sql/002).
      // Who holds what, read once: `run_liveness` (sql/006) evaluated per run reads its owner's
      // `held` array per run, O(runs × held), where this hash join is O(runs + held).
      `WITH h AS MATERIALIZED (
         SELECT w.id AS worker, w.lease_until, w.heartbeat_at, u.id AS run_id
           FROM ${db.qs}.workers w CROSS JOIN LATERAL unnest(w.held) u(id))
       SELECT (extract(epoch FROM (SELECT min(t.at) FROM (
                 -- \`run_liveness\`'s rule (sql/006) for the verdicts that become interrupted at a
                 -- moment (leased, waiting), set-based: a run its owner's lease covers is
                 -- leased until that lease expires, and active as of the owner's last heartbeat;
                 -- any other run as of its last event; stale past the threshold ($1).
                 -- test/recovery/deadlines.test.ts holds it to \`run_liveness\`.
                 SELECT CASE
                          WHEN h.run_id IS NULL THEN r.last_event_at + make_interval(secs => $1::float8 / 1000)
                          ELSE greatest(h.lease_until, greatest(r.last_event_at, h.heartbeat_at) + make_interval(secs => $1::float8 / 1000))
                        END AS at
                   FROM ${db.qs}.runs r LEFT JOIN h ON h.run_id = r.id AND h.worker = r.owner
                  WHERE r.status IN ('pending', 'running')
                    AND NOT (r.status = 'pending' AND coalesce(r.triggered_by LIKE 'queue:%', false))
                    AND NOT (r.status = 'running' AND r.owner IS NULL)
                    AND ((h.run_id IS NOT NULL AND h.lease_until > now())
                         OR greatest(r.last_event_at, h.heartbeat_at) >= now() - make_interval(secs => $1::float8 / 1000))
                 UNION ALL
                 -- A lease taken for a run whose claim is not journaled yet: that run cannot become
                 -- interrupted before this lease expires; look again then.
                 SELECT h.lease_until
                   FROM h
                  WHERE h.lease_until > now() AND h.worker <> $3
                    AND NOT EXISTS (SELECT 1 FROM ${db.qs}.runs r WHERE r.id = h.run_id AND r.owner = h.worker)
                 UNION ALL
                 -- An owner on this machine can be proven dead at any moment: look again a second
                 -- after its next renewal is due (it renews at a third of its lease).
                 SELECT w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second'
                   FROM ${db.qs}.workers w
                  WHERE w.host = $2 AND w.id <> $3 AND w.identity IS NOT NULL AND cardinality(w.held) > 0
                    AND w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second' > now()) t)
               - now()) * 1000)::float8 AS interruption,
              (extract(epoch FROM (SELECT min(d.run_at)
                                     FROM ${db.qs}.delayed_runs d JOIN ${db.qs}.runs r ON r.id = d.run_id
                                    WHERE d.run_at > now() AND r.status = 'pending')
               - now()) * 1000)::float8 AS delayed,
              -- Suspended runs (sql/016): the partial index steps_suspended_by_time.
              (extract(epoch FROM (SELECT min(s.next_retry_at)
                                     FROM ${db.qs}.steps s JOIN ${db.qs}.runs r ON r.id = s.run_id
                                    WHERE s.status IN ('sleeping', 'waiting') AND s.next_retry_at IS NOT NULL
                                      AND r.status IN ('sleeping', 'waiting'))
               - now()) * 1000)::float8 AS wake`,
      [thresholdMs, host, self],
      `orbit.deadlines:${db.schema}`,
    ),
  );
