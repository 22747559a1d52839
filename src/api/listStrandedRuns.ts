import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import { readStrandedRuns } from '../worker/readStrandedRuns';
import type { StrandedRuns } from '../worker/strandedRuns';
import type { ClientOption } from './clientOption';

export type { StrandedRuns } from '../worker/strandedRuns';

/**
 * Queued runs that no live worker can execute, by pipeline and definition hash: no registered
 * worker alive now (database clock) has their pipeline at the definition they were queued with.
 * They stay `pending` until such a worker starts; `orbit workers`, `orbit check-interrupted` and the
 * worker's log say so.
 */
export const listStrandedRuns = async (opts: ClientOption = {}): Promise<E.Either<ConnectFailure, StrandedRuns[]>> => {
  const c = await clientOr(opts.client);
  if (E.isLeft(c)) return c;
  return readStrandedRuns(c.right.db);
};
