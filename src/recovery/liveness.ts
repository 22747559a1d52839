import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';

export interface Liveness {
  /** True when nobody holds the run, or its holder showed no sign of life within the threshold. */
  readonly interrupted: boolean;
  readonly owner: string | null;
  readonly lastActivityAt: string | null;
}

/** The detection rule of `detectInterruptedRuns`, for one run (database clock). */
export const runLiveness = async (db: Database, runId: string, thresholdMs: number): Promise<E.Either<OrbitError, Liveness>> => {
  const rows = await query<{ interrupted: boolean; owner: string | null; last_activity_at: Date | null }>(
    db,
    `SELECT r.owner,
            greatest(r.last_event_at, w.heartbeat_at) AS last_activity_at,
            ((r.status = 'running' AND r.owner IS NULL)
             OR (r.last_event_at < now() - make_interval(secs => $2::float8 / 1000)
                 AND coalesce(w.heartbeat_at, '-infinity') < now() - make_interval(secs => $2::float8 / 1000))) AS interrupted
       FROM ${db.qs}.runs r LEFT JOIN ${db.qs}.workers w ON w.id = r.owner
      WHERE r.id = $1`,
    [runId, thresholdMs],
  );
  return E.map((rs: { interrupted: boolean; owner: string | null; last_activity_at: Date | null }[]) => {
    const r = rs[0];
    return r === undefined
      ? { interrupted: true, owner: null, lastActivityAt: null }
      : { interrupted: r.interrupted, owner: r.owner, lastActivityAt: r.last_activity_at?.toISOString() ?? null };
  })(rows);
};
