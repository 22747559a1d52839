import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { NOT_YET_INTERRUPTED_VERDICTS } from './runLivenessVerdict';

/**
 * Milliseconds (database clock, may be negative) until the earliest deadline that `runIds` bring,
 * by the rules of `readNextDeadlines` restricted to them (`self`: the worker's own lease id, as there): the moment one can become interrupted
 * (or the lease taken for it expires before its claim is journaled, or its owner on this host is
 * due a renewal), its delay ends, or its sleep or wait does. Null: none. What a worker reads when
 * a NOTIFY names runs (taken, queued, suspended): each costs a look-up by id, not a scan.
 */
export const readRunDeadlines = async (
  db: Database,
  runIds: readonly string[],
  thresholdMs: number,
  host: string,
  self: string,
): Promise<E.Either<DbFailure, number | null>> =>
  E.map((rs: { ms: number | null }[]) => rs[0]?.ms ?? null)(
    await query<{ ms: number | null }>(
      db,
      `SELECT (extract(epoch FROM min(t.at) - now()) * 1000)::float8 AS ms
         FROM (SELECT l.interruptible_at AS at
                 FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $2, '{}') l
                WHERE r.id = ANY ($1::text[]) AND r.status IN ('pending', 'running') AND l.verdict = ANY ($4::text[])
               UNION ALL
               SELECT w.lease_until
                 FROM ${db.qs}.workers w
                WHERE w.lease_until > now() AND w.id <> $5 AND w.held && $1::text[]
                  AND EXISTS (SELECT 1 FROM unnest(w.held) h(id)
                               WHERE h.id = ANY ($1::text[])
                                 AND NOT EXISTS (SELECT 1 FROM ${db.qs}.runs r WHERE r.id = h.id AND r.owner = w.id))
               UNION ALL
               SELECT w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second'
                 FROM ${db.qs}.workers w
                WHERE w.host = $3 AND w.id <> $5 AND w.identity IS NOT NULL AND w.held && $1::text[]
                  AND w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second' > now()
               UNION ALL
               SELECT d.run_at
                 FROM ${db.qs}.delayed_runs d JOIN ${db.qs}.runs r ON r.id = d.run_id
                WHERE d.run_id = ANY ($1::text[]) AND d.run_at > now() AND r.status = 'pending'
               UNION ALL
               SELECT s.next_retry_at
                 FROM ${db.qs}.steps s JOIN ${db.qs}.runs r ON r.id = s.run_id
                WHERE s.run_id = ANY ($1::text[]) AND s.status IN ('sleeping', 'waiting') AND s.next_retry_at IS NOT NULL
                  AND r.status IN ('sleeping', 'waiting')) t`,
      [[...runIds], thresholdMs, host, NOT_YET_INTERRUPTED_VERDICTS, self],
      `orbit.runDeadlines:${db.schema}`,
    ),
  );
