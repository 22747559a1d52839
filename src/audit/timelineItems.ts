import type { RecordedEvent } from '../events/runEvents';

/** A map step's items as its journal tells them: the list's length, which succeeded, which failed last (and how). */
export interface MapItems {
  readonly total: number;
  readonly succeeded: number;
  /** Items whose latest attempt failed, by index, with the error (`Name: message`). */
  readonly failed: ReadonlyMap<number, string>;
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Every map step's items (`step.started` with `items`, then `item.*` events), by step name. */
export const mapItemsOf = (events: readonly RecordedEvent[]): ReadonlyMap<string, MapItems> => {
  const acc = new Map<string, { total: number; succeeded: Set<number>; failed: Map<number, string> }>();
  for (const r of events) {
    const e = r.event;
    if (e.type === 'step.started' && e.payload.items !== undefined)
      acc.set(e.stepName, { total: e.payload.items, succeeded: new Set(), failed: new Map() });
    else if (e.type === 'item.succeeded') {
      acc.get(e.stepName)?.succeeded.add(e.payload.index);
      acc.get(e.stepName)?.failed.delete(e.payload.index);
    } else if (e.type === 'item.failed')
      acc.get(e.stepName)?.failed.set(e.payload.index, `${e.payload.error.name}: ${clip(e.payload.error.message, 200)}`);
  }
  return new Map([...acc].map(([k, v]) => [k, { total: v.total, succeeded: v.succeeded.size, failed: v.failed }]));
};

/** `4 items, 3 succeeded, 1 failed (items 2)`: at most `shown` failed indices named. */
export const describeItems = (m: MapItems, shown = 10): string =>
  `${m.total.toLocaleString('en')} items, ${m.succeeded.toLocaleString('en')} succeeded${
    m.failed.size > 0
      ? `, ${m.failed.size.toLocaleString('en')} failed (items ${[...m.failed.keys()].slice(0, shown).join(', ')}${m.failed.size > shown ? ', …' : ''})`
      : ''
  }`;
