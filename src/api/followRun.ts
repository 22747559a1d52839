import * as E from 'fp-ts/Either';
import type { FollowOptions, FollowResult } from '../audit/followOptions';
import { followRun as follow } from '../audit/followRun';
import type { ConnectFailure, ReadFailure } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { FollowOptions, FollowResult } from '../audit/followOptions';

/**
 * Streams a run's journal to `onEvent` until the run ends or `signal` aborts (what
 * `orbit history --follow` prints): woken at once by the run's NOTIFYs, polling cheaply between
 * them. An unknown run is followed until `signal` aborts (it may be about to be created).
 */
export const followRun = async (
  runId: string,
  opts: ClientOption & FollowOptions,
): Promise<E.Either<ConnectFailure | ReadFailure, FollowResult>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : follow(c.right.db, runId, opts);
};
