import * as E from 'fp-ts/Either';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';
import { AVAILABLE_TYPES, CLAIM_TYPES } from '../events/runEvents';
import type { ClaimLatency } from './claimLatency';

export type { ClaimLatency } from './claimLatency';

/**
 * How long a run waited, by the journal's own timestamps (the database clock), between becoming
 * available (queued, or released) and `writer`'s latest claim of it. None when that claim did not
 * directly follow such an event (a run taken over from a crashed owner: no moment to measure from).
 */
export const readClaimLatency = async (
  db: Database,
  runId: string,
  writer: string,
): Promise<E.Either<DbFailure, ClaimLatency | null>> => {
  const rows = await query<{ from_type: string; seconds: number }>(
    db,
    `SELECT p.type AS from_type, extract(epoch FROM c.occurred_at - p.occurred_at)::float8 AS seconds
       FROM ${db.qs}.run_events c
       JOIN ${db.qs}.run_events p ON p.run_id = c.run_id AND p.seq = c.seq - 1
      WHERE c.run_id = $1 AND c.writer = $2 AND c.type = ANY ($3::text[]) AND p.type = ANY ($4::text[])
      ORDER BY c.seq DESC
      LIMIT 1`,
    [runId, writer, [...CLAIM_TYPES], [...AVAILABLE_TYPES]],
  );
  return E.map((rs: { from_type: string; seconds: number }[]): ClaimLatency | null => {
    const r = rs[0];
    if (r === undefined) return null;
    return { source: r.from_type === 'run.released' ? 'released' : 'queue', seconds: Math.max(0, r.seconds) };
  })(rows);
};
