import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** Whether a takeover of a run may be reserved by the caller now. */
export type TakeoverLock =
  | { readonly kind: 'free' }
  /** Another process is reserving it at this moment (the advisory lock is taken). */
  | { readonly kind: 'busy' }
  /** A live lease other than its owner's holds it: another worker reserved (or claimed) it. */
  | { readonly kind: 'held'; readonly holder: string }
  /** Its journal moved on since it was detected (someone took it over), or it is gone. */
  | { readonly kind: 'moved' };

/**
 * Inside the caller's transaction: takes the run's transaction-level advisory lock without
 * waiting, then (a statement of its own, so its snapshot sees every reservation committed before
 * the lock was granted) whether a live lease other than the owner's and other than those of the
 * processes `dead` names (proven gone on this host) holds the run, and whether its
 * last seq is still `expectedSeq`. The caller adds the run to its own lease before committing:
 * the next worker to get the lock then sees it held.
 */
export const lockTakeover = async (
  db: Database,
  client: PoolClient,
  runId: string,
  expectedSeq: number,
  workerId: string,
  dead: readonly string[],
): Promise<E.Either<DbFailure, TakeoverLock>> => {
  const locked = await query<{ locked: boolean }>(client, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked`, [
    `orbit.takeover:${db.qs}:${runId}`,
  ]);
  if (E.isLeft(locked)) return locked;
  if (locked.right[0]?.locked !== true) return E.right({ kind: 'busy' });
  return E.map((rs: { last_seq: number; holder: string | null }[]): TakeoverLock => {
    const r = rs[0];
    if (r === undefined || r.last_seq !== expectedSeq) return { kind: 'moved' };
    return r.holder !== null ? { kind: 'held', holder: r.holder } : { kind: 'free' };
  })(
    await query<{ last_seq: number; holder: string | null }>(
      client,
      // Neither the owner's row nor a dead process's is a reservation: a killed owner's lease (or
      // an earlier owner's, killed before the run was taken from it) lists the run until it runs out.
      `SELECT r.last_seq,
              (SELECT w.id FROM ${db.qs}.workers w
                WHERE w.id <> $2 AND w.id IS DISTINCT FROM r.owner AND NOT (w.id = ANY ($3::text[]))
                  AND r.id = ANY (w.held) AND w.lease_until > now()
                LIMIT 1) AS holder
         FROM ${db.qs}.runs r
        WHERE r.id = $1`,
      [runId, workerId, dead],
    ),
  );
};
