import type * as E from 'fp-ts/Either';
import type { SendEventFailure } from '../errors';
import { sendEvent as send, type EventTarget, type SendEventOptions, type SentEvent } from '../executor/sendEvent';
import type { OrbitClient } from '../runtime/orbitClient';

export type { EventTarget, SendEventOptions, SentEvent } from '../executor/sendEvent';

/**
 * Sends an event to a run (what `orbit send` does): `sendEvent(client, runId, 'approved', { by: 'ana' })`,
 * or by a correlation key, `sendEvent(client, { key: { orderId: 'o-42' } }, 'approved', data)`:
 * the one unfinished run whose metadata contains the key. Journaled as `event.received` (who,
 * when, what). A step waiting for it (`waitForEvent`) takes it, its data becoming the step's data,
 * and the run is resumed at once by a worker; sent earlier, it is kept until the run reaches that
 * step. Refused (EventNotDelivered) for a finished or unknown run, an event no step waits for, and
 * a duplicate for a step that already has one.
 */
export const sendEvent = (
  client: OrbitClient,
  target: EventTarget,
  event: string,
  data?: unknown,
  options?: SendEventOptions,
): Promise<E.Either<SendEventFailure, SentEvent>> => send(client, target, event, data, options);
