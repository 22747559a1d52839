import * as E from 'fp-ts/Either';
import { walBytes } from '../db/walPosition';
import type { ConnectFailure } from '../errors';
import { readReplayPosition } from '../queries/readReplayPosition';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

/** How far the read replica (`connect({ readUrl })`, `ORBIT_READ_URL`) is behind the primary. */
export interface ReplicaLag {
  /** False when the read URL is not a standby (then reads see everything: no lag). */
  readonly standby: boolean;
  /** WAL bytes the primary has written that the replica has not replayed yet (0: caught up). */
  readonly bytesBehind: number | null;
  /** When the replica last replayed a transaction (the primary's commit time), ISO-8601. */
  readonly lastReplayedAt: string | null;
  /**
   * Seconds since that transaction, on the replica's clock: the time lag while the primary is
   * writing; on an idle primary it only grows, so read it together with `bytesBehind`.
   */
  readonly secondsSinceReplay: number | null;
}

/**
 * Compares the replica's replay position (pg_last_wal_replay_lsn, pg_last_xact_replay_timestamp)
 * with the primary's (pg_current_wal_lsn). Null when the client has no read URL.
 */
export const readReplicaLag = async (opts: ClientOption = {}): Promise<E.Either<ConnectFailure, ReplicaLag | null>> => {
  const c = await clientOr(opts.client);
  if (E.isLeft(c)) return c;
  if (c.right.readDb === c.right.db) return E.right(null);
  // The primary first: a replica read after it can only be as far along or further.
  const primary = await readReplayPosition(c.right.db);
  if (E.isLeft(primary)) return primary;
  const replica = await readReplayPosition(c.right.readDb);
  if (E.isLeft(replica)) return replica;
  const p = primary.right[0];
  const r = replica.right[0];
  if (p === undefined || r === undefined) return E.right(null);
  const pw = walBytes(p.lsn);
  const rw = walBytes(r.lsn);
  const behind = !r.standby ? 0 : pw === null || rw === null ? null : pw > rw ? Number(pw - rw) : 0;
  return E.right({
    standby: r.standby,
    bytesBehind: behind,
    lastReplayedAt: r.replayed_at?.toISOString() ?? null,
    secondsSinceReplay:
      r.replayed_at === null ? null : Math.max(0, Math.round((r.now.getTime() - r.replayed_at.getTime()) / 100) / 10),
  });
};
