import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { pipeline } from '../../src/pipeline/builder';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { jsonProblem } from '../../src/pipeline/jsonProblem';
import { runPipeline } from '../../src/api/runPipeline';
import { loadRunState } from '../../src/api/loadRunState';
import { enqueueRun } from '../../src/api/enqueueRun';
import { sendEvent } from '../../src/api/sendEvent';
import { startWorker } from '../../src/api/startWorker';
import { formatError } from '../../src/errors';
import { createRegistry } from '../../src/pipeline/registry';
import { connect } from '../../src/runtime/orbitClient';
import { waitFor } from '../support/waitFor';
import type { Pipeline } from '../../src/pipeline/types';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import { eventsOf, expectProjectionsMatch } from '../support/recoveryHelpers';

/*
 * The typed builder at run time, on PostgreSQL: results flow from step to step (decoded by output
 * codecs), what is not JSON fails the step for good naming the path, and a builder pipeline
 * journals what the same pipeline written with definePipeline journals.
 */
let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'builder' });
});
afterAll(async () => tc.dispose());

const run = async <M>(p: Pipeline<M>, metadata: M) => expectRight(await runPipeline(p, metadata, { client: tc.client }));

const DateFromString = new t.Type<Date, string, unknown>(
  'DateFromString',
  (u): u is Date => u instanceof Date,
  (u, c) => (typeof u === 'string' && !Number.isNaN(Date.parse(u)) ? t.success(new Date(u)) : t.failure(u, c)),
  (d) => d.toISOString(),
);

describe('the typed builder', () => {
  it('runs a DAG whose steps read their dependencies results, typed, decoded by output codecs', async () => {
    const seen: unknown[] = [];
    const p = pipeline('builder-flow', { metadata: t.type({ n: t.number }) })
      .step('fetch', async (ctx) => ({ rows: Array.from({ length: ctx.metadata.n }, (_, i) => ({ id: i })) }))
      .step('stamp', { dependsOn: [], output: DateFromString }, () => new Date('2026-01-02T03:04:05.000Z'))
      .step('count', { dependsOn: ['fetch'] }, (ctx) => ctx.results.fetch.rows.length)
      .step('quiet', { dependsOn: ['fetch'] }, () => undefined)
      .step('end', { dependsOn: ['count', 'stamp', 'quiet'] }, (ctx) => {
        seen.push(ctx.results, Object.keys(ctx.prevResults).sort(), ctx.results.stamp instanceof Date);
        return { total: ctx.results.count, year: ctx.results.stamp.getUTCFullYear(), quiet: ctx.results.quiet };
      })
      .build();
    const r = await run(p, { n: 3 });
    expect(r.status).toBe('success');
    expect(seen).toEqual([
      { fetch: { rows: [{ id: 0 }, { id: 1 }, { id: 2 }] }, stamp: new Date('2026-01-02T03:04:05.000Z'), count: 3, quiet: null },
      ['count', 'fetch', 'quiet', 'stamp'],
      true,
    ]);
    const state = expectRight(await loadRunState(r.runId, { client: tc.client }));
    const byName = Object.fromEntries(state.steps.map((s) => [s.name, s.result]));
    // What is journaled is the JSON the codec encoded: the Date as its ISO string.
    expect(byName).toEqual({
      fetch: { rows: [{ id: 0 }, { id: 1 }, { id: 2 }] },
      stamp: '2026-01-02T03:04:05.000Z',
      count: 3,
      quiet: null,
      end: { total: 3, year: 2026, quiet: null },
    });
    await expectProjectionsMatch(tc.client.db, [r.runId]);
  });

  it('fails a step that returns what is not JSON, once and for good, naming the step and the path', async () => {
    let attempts = 0;
    const p = pipeline('builder-not-json', { retry: { maxAttempts: 3, initialDelayMs: 0 } })
      .step('fetch', (): unknown => {
        attempts++;
        return { rows: [{ id: 1 }, { id: 2, when: new Date(0) }] };
      })
      .step('never', () => 1)
      .build();
    const r = await run(p, {});
    expect(r.status).toBe('failed');
    expect(attempts).toBe(1);
    const state = expectRight(await loadRunState(r.runId, { client: tc.client }));
    const fetch = state.steps.find((s) => s.name === 'fetch');
    expect(fetch?.status).toBe('failed');
    expect(fetch?.error?.name).toBe('UnserializableResult');
    expect(fetch?.error?.message).toBe(
      'step "fetch" returned a value that is not JSON: $.rows[1].when is a Date (return date.toISOString(), or give the step an output codec that encodes it)',
    );
    expect(state.steps.find((s) => s.name === 'never')?.status).toBe('pending');
  });

  it('journals what the same pipeline written with definePipeline journals', async () => {
    const steps = {
      fetch: () => ({ rows: [1, 2, 3] }),
      double: (rows: readonly number[]) => rows.map((x) => x * 2),
    };
    const built = pipeline('builder-same')
      .step('fetch', () => steps.fetch())
      .step('left', { dependsOn: ['fetch'] }, (ctx) => steps.double(ctx.results.fetch.rows))
      .step('right', { dependsOn: ['fetch'], retry: { maxAttempts: 2 } }, () => undefined)
      .step('join', { dependsOn: ['left', 'right'] }, (ctx) => ({ sum: ctx.results.left.reduce((a, b) => a + b, 0) }))
      .build();
    const plain = definePipeline({
      name: 'builder-same',
      steps: [
        { name: 'fetch', handler: () => ({ success: true, data: steps.fetch() }) },
        {
          name: 'left',
          dependsOn: ['fetch'],
          handler: (ctx) => {
            const rows = ctx.prevResults['fetch']?.data?.['rows'];
            return { success: true, data: steps.double(Array.isArray(rows) ? (rows as number[]) : []) };
          },
        },
        { name: 'right', dependsOn: ['fetch'], retry: { maxAttempts: 2 }, handler: () => ({ success: true }) },
        {
          name: 'join',
          dependsOn: ['left', 'right'],
          handler: (ctx) => {
            const left = ctx.prevResults['left']?.data as unknown as number[];
            return { success: true, data: { sum: left.reduce((a, b) => a + b, 0) } };
          },
        },
      ],
    });
    expect(built.definitionHash).toBe(plain.definitionHash);
    expect(built.dependencies).toEqual(plain.dependencies);
    const a = await run(built, {});
    const b = await run(plain, {});
    expect([a.status, b.status]).toEqual(['success', 'success']);
    // Same events, same data; only what names the run, the writer and the time differs.
    const shape = async (runId: string) =>
      (await eventsOf(tc.client.db, runId)).map((e) =>
        JSON.parse(
          JSON.stringify(e.event)
            .split(runId)
            .join('<run>')
            .replace(/"(workerId|owner|leaseId)":"[^"]*"/g, '"$1":"<w>"'),
        ),
      );
    const [sa, sb] = [await shape(a.runId), await shape(b.runId)];
    expect(sa.map((e: { type: string }) => e.type)).toContain('step.succeeded');
    expect(sa).toEqual(sb);
  });

  it('refuses what definePipeline refuses, when built', () => {
    expect(() => pipeline('builder-empty').build()).toThrow('a pipeline needs at least one step');
    const untypedCaller = pipeline('builder-js') as unknown as { step(n: string, h: unknown): unknown };
    expect(() => untypedCaller.step('a', 42)).toThrow('pipeline builder-js: step a has no handler function');
  });
});

describe('jsonProblem', () => {
  it.each([
    [{ a: 1, b: [true, null, 'x'], c: { d: undefined } }, undefined],
    [Object.assign(Object.create(null) as object, { a: 1 }), undefined],
    [new Map(), { path: '$', what: 'a Map (return an array or a plain object)' }],
    [{ s: new Set([1]) }, { path: '$.s', what: 'a Set (return an array or a plain object)' }],
    [{ 'odd key': [1, NaN] }, { path: '$["odd key"][1]', what: 'NaN (JSON has finite numbers only)' }],
    [[undefined], { path: '$[0]', what: 'undefined (in an array it would come back as null)' }],
    [{ f: () => 1 }, { path: '$.f', what: 'a function' }],
    [{ n: 1n }, { path: '$.n', what: 'a bigint (return a string or a number)' }],
    [{ b: Buffer.from('x') }, { path: '$.b', what: 'binary data (return a base64 or hex string)' }],
    [{ p: new (class Point {})() }, { path: '$.p', what: 'an instance of Point (return a plain object)' }],
    [{ t: 'a\u0000b' }, { path: '$.t', what: 'a string with a NUL character or an unpaired surrogate' }],
  ])('%p', (value, problem) => {
    expect(jsonProblem(value)).toEqual(problem);
  });

  it('names a cycle and a value nested too deep', () => {
    const cyclic: Record<string, unknown> = { a: [] };
    (cyclic['a'] as unknown[]).push(cyclic);
    expect(jsonProblem(cyclic)).toEqual({ path: '$.a[0]', what: 'a circular reference' });
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(jsonProblem(deep)?.what).toBe('a value nested more than 256 levels deep');
  });
});

describe('the typed builder with map steps', () => {
  it('maps over a dependency, item by item, and hands the list of results on; a bad item names its index', async () => {
    const p = pipeline('builder-map')
      .step('ids', () => [1, 2, 3, 4])
      .map('square', { over: 'ids', concurrency: 2 }, (item, ctx) => ({
        sq: item * item,
        key: ctx.idempotencyKey.split(':').pop(),
      }))
      .step('sum', (ctx) => ctx.results.square.reduce((a, r) => a + r.sq, 0))
      .build();
    const r = await run(p, {});
    expect(r.status).toBe('success');
    const state = expectRight(await loadRunState(r.runId, { client: tc.client }));
    expect(state.steps.find((s) => s.name === 'sum')?.result).toBe(30);
    expect(state.steps.find((s) => s.name === 'square')?.result).toEqual([
      { sq: 1, key: '0' },
      { sq: 4, key: '1' },
      { sq: 9, key: '2' },
      { sq: 16, key: '3' },
    ]);
    const bad = pipeline('builder-map-bad')
      .step('ids', () => [1, 2])
      .map('when', { over: 'ids' }, (item): unknown => (item === 2 ? { at: new Date(0) } : { at: 'never' }))
      .build();
    const b = await run(bad, {});
    expect(b.status).toBe('failed');
    expect(b.error).toContain('step "when[1]" returned a value that is not JSON: $.at is a Date');
  });
});

describe('the typed builder with sleep and wait steps', () => {
  const Approval = t.type({ approved: t.boolean, by: t.string });
  const untilStatus = (runId: string, status: string) =>
    waitFor(
      async () =>
        (await tc.client.db.pool.query<{ status: string }>(`SELECT status FROM ${tc.client.db.qs}.runs WHERE id = $1`, [runId]))
          .rows[0]?.status === status,
      { what: `run ${runId} ${status}` },
    );
  const waiting = () =>
    pipeline('builder-wait', { metadata: t.type({ order: t.string }) })
      .step('prepare', (ctx) => ({ order: ctx.metadata.order }))
      .sleep('cool-down', '150ms')
      .waitForEvent('approve', { event: 'approved', timeout: '1h', output: Approval })
      .sleepUntil('settle', (ctx) => Date.now() + (ctx.results.approve.approved ? 100 : 0))
      .step('ship', (ctx) => ({ order: ctx.results.prepare.order, ...ctx.results.approve }))
      .build();

  it('sleeps, waits for its event (data checked by the codec when sent and when taken), and hands the data on, typed', async () => {
    const p = waiting();
    const w = expectRight(await startWorker({ client: tc.client, concurrency: 2 }));
    try {
      const { runId } = expectRight(await enqueueRun(p, { order: 'o-7' }, { client: tc.client }));
      await untilStatus(runId, 'waiting');
      // Data its codec refuses is refused here, and nothing is journaled.
      const bad = await sendEvent(tc.client, runId, 'approved', { approved: 'yes' });
      expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidInput');
      expect(E.isLeft(bad) && formatError(bad.left)).toMatch(/"approved" event's data: it does not match step "approve"'s codec/);
      expectRight(await sendEvent(tc.client, runId, 'approved', { approved: true, by: 'ana' }));
      await untilStatus(runId, 'success');
      const state = expectRight(await loadRunState(runId, { client: tc.client }));
      expect(Object.fromEntries(state.steps.map((s) => [s.name, s.result]))).toEqual({
        prepare: { order: 'o-7' },
        'cool-down': null,
        approve: { approved: true, by: 'ana' },
        settle: null,
        ship: { order: 'o-7', approved: true, by: 'ana' },
      });
      const types = (await eventsOf(tc.client.db, runId)).map((e) => e.event.type);
      expect(types.filter((x) => x === 'step.sleeping')).toHaveLength(2);
      expect(types.filter((x) => x === 'step.waiting')).toHaveLength(1);
      expect(types.filter((x) => x === 'event.received')).toHaveLength(1);
    } finally {
      await w.stop();
    }
  }, 60_000);

  it('turns away data its codec refuses from a sender without the pipeline: the step waits on, the next good event is taken', async () => {
    const p = waiting();
    // A sender that does not have the pipeline cannot check the data: the step does, when it takes
    // it. Until 0.1 that failed the step for good, and the event stayed in the inbox, so a
    // --retry-failed resume took it again and failed again: one bad send ended the run.
    const blind = expectRight(await connect({ databaseUrl: tc.url, schema: tc.schema, registry: createRegistry() }));
    const w = expectRight(await startWorker({ client: tc.client, concurrency: 2 }));
    try {
      const { runId } = expectRight(await enqueueRun(p, { order: 'o-8' }, { client: tc.client }));
      await untilStatus(runId, 'waiting');
      const bad = expectRight(await sendEvent(blind, runId, 'approved', { approved: 'yes' }));
      await waitFor(async () => (await eventsOf(tc.client.db, runId)).some((e) => e.event.type === 'event.rejected'), {
        what: 'the event turned away',
      });
      await untilStatus(runId, 'waiting');
      const rejected = (await eventsOf(tc.client.db, runId)).find((e) => e.event.type === 'event.rejected')?.event;
      expect(rejected).toEqual({
        type: 'event.rejected',
        payload: {
          event: 'approved',
          seq: bad.seq,
          step: 'approve',
          reason: expect.stringMatching(/its data does not match step "approve"'s codec: approved: expected boolean, got "yes"/),
        },
      });
      const meanwhile = expectRight(await loadRunState(runId, { client: tc.client }));
      expect(meanwhile.inbox ?? []).toEqual([]);
      expect(meanwhile.steps.find((s) => s.name === 'approve')?.status).toBe('waiting');
      expect(meanwhile.error).toBeNull();

      expectRight(await sendEvent(blind, runId, 'approved', { approved: true, by: 'ana' }));
      await untilStatus(runId, 'success');
      const state = expectRight(await loadRunState(runId, { client: tc.client }));
      expect(state.steps.find((s) => s.name === 'approve')?.result).toEqual({ approved: true, by: 'ana' });
      expect(state.steps.find((s) => s.name === 'approve')?.attemptCount).toBe(1);
      await expectProjectionsMatch(tc.client.db, [runId]);
    } finally {
      await w.stop();
      await blind.close();
    }
  }, 60_000);

  it('a kept event its codec refuses holds no place: a good one sent after it is not a duplicate, and is the one taken', async () => {
    const p = waiting();
    const blind = expectRight(await connect({ databaseUrl: tc.url, schema: tc.schema, registry: createRegistry() }));
    try {
      // Queued, no worker yet: both events are kept until the step waits.
      const { runId } = expectRight(await enqueueRun(p, { order: 'o-9' }, { client: tc.client }));
      const bad = expectRight(await sendEvent(blind, runId, 'approved', { approved: 'yes' }));
      expect(bad).toMatchObject({ delivery: 'kept', unchecked: true });
      // Before: refused, "an earlier "approved" is already kept for step "approve"; this one is a duplicate".
      const good = expectRight(await sendEvent(tc.client, runId, 'approved', { approved: true, by: 'ana' }));
      expect(good).toMatchObject({ delivery: 'kept', unchecked: false });
      const w = expectRight(await startWorker({ client: tc.client, concurrency: 2 }));
      try {
        await untilStatus(runId, 'success');
      } finally {
        await w.stop();
      }
      const state = expectRight(await loadRunState(runId, { client: tc.client }));
      expect(state.steps.find((s) => s.name === 'approve')?.result).toEqual({ approved: true, by: 'ana' });
      const types = (await eventsOf(tc.client.db, runId)).map((e) => e.event.type);
      expect(types.filter((x) => x === 'event.rejected')).toHaveLength(1);
    } finally {
      await blind.close();
    }
  }, 60_000);

  it('has the definition hash of the same pipeline written with definePipeline, and refuses what it refuses', () => {
    const until = () => 0;
    const built = pipeline('builder-kinds')
      .step('a', () => 1)
      .sleep('nap', '2h')
      .waitForEvent('approve', {
        event: 'approved',
        timeout: '1d',
        onTimeout: { continueWith: { approved: false, by: 'x' } },
        output: Approval,
      })
      .sleepUntil('until', until)
      .build();
    const plain = definePipeline({
      name: 'builder-kinds',
      steps: [
        { name: 'a', handler: () => ({ success: true, data: 1 }) },
        { name: 'nap', sleep: '2h' },
        {
          name: 'approve',
          waitForEvent: { event: 'approved', timeout: '1d', onTimeout: { continueWith: { approved: false, by: 'x' } } },
        },
        { name: 'until', sleepUntil: until },
      ],
    });
    expect(built.definitionHash).toBe(plain.definitionHash);
    expect(built.steps.map((s) => s.sleep ?? s.waitForEvent?.event ?? null)).toEqual([null, '2h', 'approved', null]);
    const js = pipeline('builder-bad') as unknown as {
      step(n: string, h: unknown): typeof js;
      sleep(n: string, d: unknown): { build(): unknown };
      sleepUntil(n: string, f: unknown): unknown;
      waitForEvent(n: string, o: unknown): { build(): unknown };
    };
    expect(() => js.sleep('nap', 'soon').build()).toThrow(/step nap: sleep: /);
    expect(() => js.waitForEvent('w', { event: 'bad event' }).build()).toThrow(/waitForEvent.event must be/);
    expect(() => js.waitForEvent('w', { event: 'ok', timeout: 'later' }).build()).toThrow(/waitForEvent.timeout/);
    expect(() =>
      js.waitForEvent('w', { event: 'ok', onTimeout: { continueWith: { approved: 'no' } }, output: Approval }).build(),
    ).toThrow(/continueWith does not match the step's output codec/);
    expect(() => js.sleepUntil('u', '2030-01-01')).toThrow(/sleepUntil needs a function/);
  });
});
