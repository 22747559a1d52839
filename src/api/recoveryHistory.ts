import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import type { RecoveryPoint } from '../projections/pipelineStats';
import { recoveryHistory as history } from '../recovery/recoveryHistory';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RecoveryPoint } from '../projections/pipelineStats';

export interface RecoveryHistoryOptions extends ClientOption {
  /** Width of a bucket (ms). Default one hour. */
  readonly bucketMs?: number;
  /** How many buckets, ending now. Default 24 (at most 1,000). */
  readonly buckets?: number;
}

/** The spec's recovery metrics over time, one point per bucket, oldest first (the dashboard's charts). */
export const recoveryHistory = async (opts: RecoveryHistoryOptions = {}): Promise<E.Either<ConnectFailure, RecoveryPoint[]>> => {
  const c = await clientOr(opts.client);
  const buckets = Math.max(1, Math.min(opts.buckets ?? 24, 1000));
  return E.isLeft(c) ? c : history(c.right.readDb, Math.max(1000, opts.bucketMs ?? 3_600_000), buckets);
};
