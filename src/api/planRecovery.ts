import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { planRecovery as plan, type RecoveryPlanEntry } from '../recovery/planRecovery';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RecoveryPlanEntry } from '../recovery/planRecovery';

export interface PlanRecoveryOptions extends ClientOption {
  /** At most this many runs. Default 1,000. */
  readonly limit?: number;
}

/**
 * What `orbit recover --dry-run` prints: the interrupted runs, and for each what a resume would
 * do (the same checks and decisions as `resumeRun`). Nothing is claimed or written.
 */
export const planRecovery = async (
  options: PlanRecoveryOptions = {},
): Promise<E.Either<ConnectFailure, readonly RecoveryPlanEntry[]>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : plan(c.right, options);
};
