import { hostname } from 'node:os';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { provablyGone } from '../lease/processIdentity';
import { listWorkersOnHost } from '../queries/listWorkersOnHost';
import { readRunLiveness, type RunLivenessRow } from '../queries/readRunLiveness';
import { INTERRUPTED_VERDICTS, type Verdict } from '../queries/runLivenessVerdict';

export { INTERRUPTED_VERDICTS, type Verdict } from '../queries/runLivenessVerdict';

export interface Liveness {
  readonly verdict: Verdict;
  readonly interrupted: boolean;
  readonly owner: string | null;
  readonly lastActivityAt: string | null;
  /** Until when the owner's lease protects the run (null when no valid lease covers it). */
  readonly leaseUntil: string | null;
}

/** Owners (worker ids) registered on this host whose process no longer exists. */
export const deadOwners = async (db: Database): Promise<E.Either<DbFailure, string[]>> =>
  E.map((rs: { id: string; host: string; pid: number; identity: string | null }[]) =>
    rs.filter((r) => provablyGone(r.host, r.pid, r.identity)).map((r) => r.id),
  )(await listWorkersOnHost(db, hostname()));

/** The liveness rule of `detectInterruptedRuns`, for one run (database clock). */
export const runLiveness = async (db: Database, runId: string, thresholdMs: number): Promise<E.Either<DbFailure, Liveness>> => {
  const dead = await deadOwners(db);
  if (E.isLeft(dead)) return dead;
  return E.map((rs: readonly RunLivenessRow[]): Liveness => {
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
  })(await readRunLiveness(db, runId, thresholdMs, dead.right));
};
