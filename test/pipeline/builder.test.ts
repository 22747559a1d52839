import * as t from 'io-ts';
import { pipeline } from '../../src/pipeline/builder';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { jsonProblem } from '../../src/pipeline/jsonProblem';
import { runPipeline } from '../../src/api/runPipeline';
import { loadRunState } from '../../src/api/loadRunState';
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
