import type { JsonValue } from '../events/json';
import type { StepError } from '../events/runEvents';
import { emptyVector, vectorGet, type ItemVector } from './itemVector';

/** An item's status: as a step's, `pending` only again after a `retryFailed` resume. */
export type ItemStatus = 'pending' | 'running' | 'success' | 'failed' | 'retrying';

/** One item of a map step, as the fold says it is (items never started have none). */
export interface ItemState {
  readonly status: ItemStatus;
  /** The item's attempts so far. */
  readonly attempt: number;
  readonly result: JsonValue | null;
  readonly error: StepError | null;
  readonly retryable: boolean | null;
  /** When a retrying item's next attempt is due (database clock). */
  readonly nextRetryAt: string | null;
}

/**
 * A map step's items. Items start in list order: those from `next` on have never started; of
 * the others only `open` (started, not succeeded) need deciding, so deciding what to start costs
 * what the items in flight cost, not the length of the list.
 */
export interface MapState {
  /** Items in the list (journaled in the map step's `step.started`). */
  readonly count: number;
  /** Items ever started: 0 … next-1. */
  readonly next: number;
  readonly succeeded: number;
  /** Positions (ascending) of the items started and not succeeded: running, retrying, failed, pending again. */
  readonly open: readonly number[];
  /** Per item; emptied once the map step succeeded (its result then holds the list). */
  readonly items: ItemVector<ItemState>;
}

export const newMapState = (count: number): MapState => ({ count, next: 0, succeeded: 0, open: [], items: emptyVector(count) });

export const itemOf = (m: MapState, index: number): ItemState | undefined => vectorGet(m.items, index);

/** Item counts of a map step, for summaries and timelines. */
export interface MapCounts {
  readonly total: number;
  readonly succeeded: number;
  readonly running: number;
  readonly retrying: number;
  readonly failed: number;
  /** Never started, or pending again. */
  readonly pending: number;
}

export const mapCounts = (m: MapState): MapCounts => {
  let running = 0;
  let retrying = 0;
  let failed = 0;
  let again = 0;
  for (const i of m.open) {
    const s = itemOf(m, i)?.status;
    if (s === 'running') running++;
    else if (s === 'retrying') retrying++;
    else if (s === 'failed') failed++;
    else again++;
  }
  return { total: m.count, succeeded: m.succeeded, running, retrying, failed, pending: m.count - m.next + again };
};

/** The item results in list order (every item succeeded). */
export const mapResults = (m: MapState): JsonValue[] => {
  const out = new Array<JsonValue>(m.count);
  for (let i = 0; i < m.count; i++) out[i] = itemOf(m, i)?.result ?? null;
  return out;
};

/** Item key in the executor's set of attempts running (`step\u0000index`). */
export const itemKey = (stepName: string, index: number): string => `${stepName}\u0000${index}`;

/** The step an executing key belongs to. */
export const stepOfKey = (key: string): string => {
  const at = key.indexOf('\u0000');
  return at < 0 ? key : key.slice(0, at);
};
