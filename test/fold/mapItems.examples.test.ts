import type { RunEvent } from '../../src/events/runEvents';
import { mapCounts } from '../../src/fold/mapState';
import { emptyVector, vectorGet, vectorSet } from '../../src/fold/itemVector';
import { claimed, created, given, started, succeeded } from '../support/eventBuilders';

const mapStarted = (items: number): RunEvent => ({ type: 'step.started', stepName: 'each', attempt: 1, payload: { items } });
const itemStarted = (index: number, attempt = 1): RunEvent => ({
  type: 'item.started',
  stepName: 'each',
  attempt,
  payload: { index },
});
const itemSucceeded = (index: number, attempt = 1): RunEvent => ({
  type: 'item.succeeded',
  stepName: 'each',
  attempt,
  payload: { index, result: index * 10 },
});
const itemFailed = (index: number, attempt = 1): RunEvent => ({
  type: 'item.failed',
  stepName: 'each',
  attempt,
  payload: { index, error: { name: 'Error', message: 'no' }, retryable: true },
});

const base = [created(['list', 'each']), claimed(), started('list'), succeeded('list', 1, [1, 2, 3]), mapStarted(3)];

describe('map items in the fold', () => {
  it('counts items and keeps their results; the step succeeds only once every item did', () => {
    const s = given(...base, itemStarted(0), itemStarted(1), itemSucceeded(1), itemFailed(0)).then();
    expect(mapCounts(s.maps?.['each'] as never)).toEqual({
      total: 3,
      succeeded: 1,
      running: 0,
      retrying: 0,
      failed: 1,
      pending: 1,
    });
    expect(
      given(...base, itemStarted(0), itemSucceeded(0))
        .when(succeeded('each', 1, [0]))
        .rejects().reason,
    ).toBe('map step each has 2 item(s) not succeeded');
  });

  it('refuses items out of list order, a second success, an index past the list, and an attempt out of turn', () => {
    expect(
      given(...base)
        .when(itemStarted(1))
        .rejects().reason,
    ).toBe('step each item 1: item 0 starts first');
    expect(
      given(...base, itemStarted(0), itemSucceeded(0))
        .when(itemStarted(0, 2))
        .rejects().reason,
    ).toBe('step each item 0: already succeeded');
    expect(
      given(...base)
        .when(itemStarted(3))
        .rejects().reason,
    ).toBe('step each item 3: the list has 3 item(s)');
    expect(
      given(...base, itemStarted(0))
        .when(itemStarted(0, 3))
        .rejects().reason,
    ).toBe('step each item 0: attempt 3 follows attempt 1');
  });

  it('the persistent vector never changes a vector it was given', () => {
    const a = vectorSet(emptyVector<number>(100_000), 70_000, 7);
    const b = vectorSet(a, 70_000, 8);
    expect([vectorGet(a, 70_000), vectorGet(b, 70_000), vectorGet(b, 3)]).toEqual([7, 8, undefined]);
  });
});
