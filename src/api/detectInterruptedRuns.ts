import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { detectInterruptedRuns as detect, type DetectOptions as Options } from '../recovery/detectInterruptedRuns';
import type { InterruptedRun } from '../recovery/detectInterruptedRuns';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { InterruptedRun } from '../recovery/detectInterruptedRuns';

export interface DetectOptions extends ClientOption, Options {}

/**
 * Runs that nobody is executing (what `orbit check-interrupted` lists): released by their worker,
 * owned by a process of this machine that no longer exists, or (no valid lease covering them)
 * silent for longer than the threshold, by the database's clock. A run under a valid lease is
 * never listed, whatever the threshold.
 */
export const detectInterruptedRuns = async (options: DetectOptions = {}): Promise<E.Either<ConnectFailure, InterruptedRun[]>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : detect(c.right, options);
};
