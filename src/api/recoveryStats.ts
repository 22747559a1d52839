import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { recoveryStats as stats, type RecoveryStats } from '../recovery/recoveryStats';
import { clientOr, readingClient } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RecoveryStats } from '../recovery/recoveryStats';

export interface RecoveryStatsOptions extends ClientOption {
  /** Only resumptions in the last this many ms. Default: the whole journal. */
  readonly sinceMs?: number;
}

/** The spec's recovery metrics (what `orbit stats` prints), computed from the journal. */
export const recoveryStats = async (options: RecoveryStatsOptions = {}): Promise<E.Either<ConnectFailure, RecoveryStats>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : stats(readingClient(c.right), options);
};
