import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { NOT_YET_INTERRUPTED_VERDICTS } from './runLivenessVerdict';

/**
 * Milliseconds (database clock, may be negative) until the earliest moment some unfinished run can
 * become interrupted by `run_liveness`, or a lease of this host's processes calls for a look; null
 * when nothing waits. `host` is this machine's name.
 */
export const readMsUntilNextInterruption = async (
  db: Database,
  thresholdMs: number,
  host: string,
): Promise<E.Either<DbFailure, number | null>> =>
  E.map((rs: { ms: number | null }[]) => rs[0]?.ms ?? null)(
    await query<{ ms: number | null }>(
      db,
      // The status list matches the partial index runs_unfinished_by_activity (sql/002).
      `SELECT (extract(epoch FROM min(t.at) - now()) * 1000)::float8 AS ms
         FROM (SELECT l.interruptible_at AS at
                 FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, '{}') l
                WHERE r.status IN ('pending', 'running') AND l.verdict = ANY ($3::text[])
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
      [thresholdMs, host, NOT_YET_INTERRUPTED_VERDICTS],
    ),
  );
