import * as t from 'io-ts';
import { pipeline } from '../../src/pipeline/builder';
import type { JsonValue, Pipeline } from '../../src/pipeline/types';

/*
 * The typed builder's compile-time guarantees. ts-jest and `npm run lint` compile this file: a
 * `@ts-expect-error` line that starts compiling (a wrong key or dependency accepted, a Date
 * returned) fails it, and so does a `Same` that stops holding.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const exactly = <A, B>(same: Same<A, B>): Same<A, B> => same;

interface Row {
  readonly id: number;
  readonly name?: string;
}
const rows = (): Row[] => [{ id: 1 }];
const when = new Date(0);
const DateFromString = new t.Type<Date, string, unknown>(
  'DateFromString',
  (u): u is Date => u instanceof Date,
  (u, c) => (typeof u === 'string' && !Number.isNaN(Date.parse(u)) ? t.success(new Date(u)) : t.failure(u, c)),
  (d) => d.toISOString(),
);

const built = pipeline('types', { metadata: t.type({ batch: t.string }) })
  .step('fetch', async (ctx) => {
    exactly<typeof ctx.metadata, { batch: string }>(true);
    exactly<typeof ctx.results, Record<never, never>>(true);
    return { rows: rows(), batch: ctx.metadata.batch };
  })
  .step('count', (ctx) => {
    exactly<typeof ctx.results.fetch, { rows: Row[]; batch: string }>(true);
    return ctx.results.fetch.rows.length;
  })
  .step('notify', async () => undefined)
  .step('side', { dependsOn: ['fetch'] }, (ctx) => {
    // Only fetch (its one dependency) is visible.
    exactly<keyof typeof ctx.results, 'fetch'>(true);
    return [ctx.results.fetch.batch];
  })
  .step('stamp', { dependsOn: [], output: DateFromString }, () => when)
  .step('end', { dependsOn: ['count', 'side', 'stamp'] }, (ctx) => {
    // Dependencies of dependencies are visible too; notify is not among them.
    exactly<keyof typeof ctx.results, 'fetch' | 'count' | 'side' | 'stamp'>(true);
    exactly<typeof ctx.results.count, number>(true);
    exactly<typeof ctx.results.side, string[]>(true);
    exactly<typeof ctx.results.stamp, Date>(true);
    const total: number = ctx.results.count + ctx.results.side.length + ctx.results.stamp.getTime();
    return { total, at: ctx.results.stamp.toISOString() };
  })
  .step('after', { dependsOn: ['notify', 'end'] }, (ctx) => {
    // A step that returned nothing reads as null.
    exactly<typeof ctx.results.notify, null>(true);
    const v: JsonValue = ctx.results.notify;
    return v;
  })
  .build();
exactly<typeof built, Pipeline<{ batch: string }>>(true);

// Without a metadata codec, metadata is a JSON object.
pipeline('untyped').step('a', (ctx) => ({ user: ctx.metadata['user'] ?? null }));

const base = pipeline('refusals').step('fetch', async () => ({ rows: rows() }));

// A misspelled result key does not compile.
// @ts-expect-error fetchh is not a step
base.step('load', (ctx) => ctx.results.fetchh);
// A field the step did not return does not compile.
// @ts-expect-error fetch returned no `count`
base.step('load', (ctx) => ctx.results.fetch.count);
// A misspelled dependency does not compile.
// @ts-expect-error fetchh is not a step
base.step('load', { dependsOn: ['fetchh'] }, () => 1);
// A step that comes later is not a dependency either (it would be a cycle).
// @ts-expect-error load is not a step yet
base.step('load', { dependsOn: ['load'] }, () => 1);
// A result that is not among the step's dependencies does not compile.
base
  .step('other', { dependsOn: [] }, () => 2)
  // @ts-expect-error fetch is not a dependency of late
  .step('late', { dependsOn: ['other'] }, (ctx) => ctx.results.fetch);
// Two steps of one name do not compile.
// @ts-expect-error fetch is defined already
base.step('fetch', () => 1);

// What is not JSON does not compile: a Date, a Map, a Set, a function, a bigint, nested too.
// @ts-expect-error a Date is not JSON
base.step('d', () => new Date());
// @ts-expect-error a Date inside an object is not JSON
base.step('d', async () => ({ at: new Date() }));
// @ts-expect-error a Map is not JSON
base.step('m', () => ({ byId: new Map<string, number>() }));
// @ts-expect-error a Set is not JSON
base.step('s', () => [new Set<number>()]);
// @ts-expect-error a function is not JSON
base.step('f', () => ({ callback: () => 1 }));
// @ts-expect-error a bigint is not JSON
base.step('b', () => ({ n: 1n }));
// An output codec is where a Date may go: the handler must return the codec's type.
// @ts-expect-error the codec decodes to Date, the handler returns a string
base.step('o', { output: DateFromString }, () => 'yesterday');
// Options are checked too.
// @ts-expect-error timeoutMs is a number
base.step('o', { timeoutMs: '1s' }, () => 1);

describe('the typed builder, at compile time', () => {
  it('compiles the checks above (this file failing to compile is the failure)', () => {
    expect(built.stepNames).toEqual(['fetch', 'count', 'notify', 'side', 'stamp', 'end', 'after']);
    expect(built.dependencies).toEqual({
      fetch: [],
      count: ['fetch'],
      notify: ['count'],
      side: ['fetch'],
      stamp: [],
      end: ['count', 'side', 'stamp'],
      after: ['notify', 'end'],
    });
  });
});

// Recursive types are checked without running away.
interface Tree {
  readonly label: string;
  readonly children: readonly Tree[];
}
pipeline('tree').step('t', (): Tree => ({ label: 'root', children: [] }));
interface DatedTree {
  readonly at: Date;
  readonly children: readonly DatedTree[];
}
// @ts-expect-error a Date is not JSON, however deep
pipeline('tree').step('t', (): DatedTree => ({ at: new Date(), children: [] }));

// Map steps: the item has the list's element type; the result is the list of the items' results.
const mapped = pipeline('map-types')
  .step('list', () => ({ ids: [1, 2, 3] }))
  .step('ids', (ctx) => ctx.results.list.ids)
  .map('square', { over: 'ids', concurrency: 2 }, (item, ctx) => {
    exactly<typeof item, number>(true);
    exactly<keyof typeof ctx.results, 'list' | 'ids'>(true);
    return { sq: item * item, of: ctx.results.ids.length };
  })
  .step('sum', (ctx) => {
    exactly<typeof ctx.results.square, { sq: number; of: number }[]>(true);
    return ctx.results.square.reduce((a, r) => a + r.sq, 0);
  });
// @ts-expect-error list's result is not an array: nothing to map over
mapped.map('bad', { over: 'list', dependsOn: ['list'] }, () => 1);
// @ts-expect-error over must be a dependency of the step (ids is not sum's)
mapped.map('bad', { over: 'ids' }, () => 1);
// @ts-expect-error an item's result must be JSON too
mapped.map('bad', { over: 'ids', dependsOn: ['ids'] }, () => new Date());

// Sleep and wait steps: a sleep's result is null; a wait's is the event's data, typed by its
// output codec (JSON without one); sleepUntil's context sees its dependencies' results, typed.
const Approval = t.type({ approved: t.boolean, by: t.string });
const waits = pipeline('wait-types')
  .step('prepare', () => ({ order: 'o-1' }))
  .sleep('cool-down', '2h')
  .waitForEvent('approve', {
    event: 'approved',
    timeout: '2d',
    onTimeout: { continueWith: { approved: false, by: 'timeout' } },
    output: Approval,
  })
  .waitForEvent('raw', { event: 'note', dependsOn: ['prepare'] })
  .sleepUntil(
    'until',
    (ctx) => {
      exactly<keyof typeof ctx.results, 'prepare' | 'raw'>(true);
      exactly<typeof ctx.results.raw, JsonValue>(true);
      return new Date(Date.parse(ctx.results.prepare.order) || 0);
    },
    { dependsOn: ['raw'] },
  )
  .step('ship', { dependsOn: ['approve', 'until'] }, (ctx) => {
    exactly<(typeof ctx.results)['cool-down'], null>(true);
    exactly<typeof ctx.results.approve, { approved: boolean; by: string }>(true);
    exactly<typeof ctx.results.until, null>(true);
    return { shipped: ctx.results.approve.approved, by: ctx.results.approve.by };
  });
// @ts-expect-error continueWith must be what the codec reads (approved is a boolean)
waits.waitForEvent('again', { event: 'x', onTimeout: { continueWith: { approved: 'no', by: 'x' } }, output: Approval });
// @ts-expect-error a wait names its event
waits.waitForEvent('again', { timeout: '1h' });
// @ts-expect-error a sleep's dependency must be a step already there
waits.sleep('nap', '1h', { dependsOn: ['later'] });
// @ts-expect-error a sleep's name is new too
waits.sleep('ship', '1h');
// @ts-expect-error a wait step's result is not a handler's: no field the codec does not have
waits.step('after', (ctx) => ctx.results.ship.shipped && ctx.results.approve.reason);
