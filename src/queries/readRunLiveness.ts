import { query, type Database } from '../db/database';
import type { Verdict } from './runLivenessVerdict';

export interface RunLivenessRow {
  readonly verdict: Verdict;
  readonly owner: string | null;
  readonly last_activity_at: Date | null;
  readonly lease_until: Date | null;
}

/** What `run_liveness` says of one run (no row: the run has no `runs` row). */
export const readRunLiveness = (db: Database, runId: string, thresholdMs: number, deadOwners: readonly string[]) =>
  query<RunLivenessRow>(
    db,
    `SELECT l.verdict, r.owner, l.last_activity_at, l.lease_until
       FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $2, $3) l
      WHERE r.id = $1`,
    [runId, thresholdMs, deadOwners],
  );
