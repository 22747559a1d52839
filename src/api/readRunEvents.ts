import * as E from 'fp-ts/Either';
import type { ConnectFailure, ReadFailure } from '../errors';
import type { RecordedEvent } from '../events/runEvents';
import { readRunEvents as readEvents } from '../journal/readEvents';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RunEvent, RecordedEvent } from '../events/runEvents';

export interface ReadRunEventsOptions extends ClientOption {
  /** Only events after this seq. Default 0 (the whole journal). */
  readonly afterSeq?: number;
}

/** A run's journal, in seq order (what `orbit history` shows). */
export const readRunEvents = async (
  runId: string,
  opts: ReadRunEventsOptions = {},
): Promise<E.Either<ConnectFailure | ReadFailure, RecordedEvent[]>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : readEvents(c.right.readDb, runId, opts.afterSeq);
};
