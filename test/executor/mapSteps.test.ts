import * as E from 'fp-ts/Either';
import { definePipeline, PipelineDefinitionError } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { resumeRun } from '../../src/recovery/resumeRun';
import { NonRetryableError } from '../../src/executor/stepError';
import type { StepDefinition } from '../../src/pipeline/types';
import { loadRunState } from '../../src/journal/loadRunState';
import { mapCounts } from '../../src/fold/mapState';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import { countEvents, expectProjectionsMatch, journalOf } from '../support/recoveryHelpers';

let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'mapsteps', thresholdMs: 600 });
});
afterAll(async () => tc.dispose());

const list = (n: number): StepDefinition => ({
  name: 'list',
  handler: () => ({ success: true, data: Array.from({ length: n }, (_, i) => i) as unknown as Record<string, never> }),
});

describe('definePipeline with map', () => {
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof PipelineDefinitionError) return e.message;
      throw e;
    }
    throw new Error('accepted');
  };
  it('refuses a map over a step it does not depend on, and a concurrency below 1', () => {
    const h = () => ({ success: true as const });
    expect(
      refusal(() =>
        definePipeline({
          name: 'm',
          steps: [
            { name: 'a', handler: h },
            { name: 'b', dependsOn: [], map: { over: 'a' }, handler: h },
          ],
        }),
      ),
    ).toBe('Invalid pipeline definition "m": step b: map.over names "a", which is not a step this one depends on');
    expect(
      refusal(() =>
        definePipeline({
          name: 'm',
          steps: [
            { name: 'a', handler: h },
            { name: 'b', map: { over: 'a', concurrency: 0 }, handler: h },
          ],
        }),
      ),
    ).toContain('map.concurrency must be an integer >= 1');
  });
});

describe('map steps', () => {
  it('runs one attempt per item, each with its own key, up to its concurrency; the data is the ordered list', async () => {
    let running = 0;
    let peak = 0;
    const keys: string[] = [];
    let seen: unknown;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'squares',
        steps: [
          list(50),
          {
            name: 'square',
            map: { over: 'list', concurrency: 4 },
            handler: async (ctx) => {
              running++;
              peak = Math.max(peak, running);
              keys.push(ctx.idempotencyKey);
              await new Promise((r) => setTimeout(r, (ctx.itemIndex as number) % 3));
              running--;
              const n = ctx.item as number;
              return { success: true, data: { n, sq: n * n } };
            },
          },
          {
            name: 'sum',
            handler: (ctx) => {
              seen = ctx.prevResults['square']?.data;
              return { success: true };
            },
          },
        ],
      }),
    );
    const r = expectRight(await runPipeline('squares', {}, { client: tc.client }));
    expect(r.status).toBe('success');
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
    expect(new Set(keys)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `${r.runId}:square:${i}`)));
    expect(seen).toEqual(Array.from({ length: 50 }, (_, n) => ({ n, sq: n * n })));
    expect(await countEvents(tc.client.db, r.runId, { type: 'item.succeeded' })).toBe(50);
    expect(r.state.maps?.['square'] && mapCounts(r.state.maps['square'])).toMatchObject({ total: 50, succeeded: 50 });
    await expectProjectionsMatch(tc.client.db, [r.runId]);
  });

  it('retries an item on its own, and a list computed from the context', async () => {
    const calls = new Map<number, number>();
    tc.registry.registerPipeline(
      definePipeline<{ n: number }>({
        name: 'retry-items',
        retry: { maxAttempts: 3, initialDelayMs: 0 },
        steps: [
          {
            name: 'each',
            dependsOn: [],
            map: { over: (ctx) => Array.from({ length: ctx.metadata.n }, (_, i) => `x${i}`), concurrency: 3 },
            handler: (ctx) => {
              const i = ctx.itemIndex as number;
              calls.set(i, (calls.get(i) ?? 0) + 1);
              if (i === 2 && ctx.attempt < 3) throw new Error(`flaky ${ctx.attempt}`);
              return { success: true, data: { item: ctx.item ?? null } };
            },
          },
        ],
      }),
    );
    const r = expectRight(await runPipeline('retry-items', { n: 6 }, { client: tc.client }));
    expect(r.status).toBe('success');
    expect([...calls.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 1],
      [1, 1],
      [2, 3],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    expect(r.state.steps[0]?.result).toEqual(Array.from({ length: 6 }, (_, i) => ({ item: `x${i}` })));
    expect(await countEvents(tc.client.db, r.runId, { type: 'item.retry_scheduled' })).toBe(2);
  });

  it('an item that fails for good fails the step and the run, after the items in flight end', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'bad-item',
        steps: [
          list(20),
          {
            name: 'each',
            map: { over: 'list', concurrency: 4 },
            handler: (ctx) => {
              if (ctx.itemIndex === 5) throw new NonRetryableError('item five is bad');
              return { success: true };
            },
          },
        ],
      }),
    );
    const r = expectRight(await runPipeline('bad-item', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "each" failed (not retryable): item 5 failed: item five is bad');
    expect(await countEvents(tc.client.db, r.runId, { type: 'item.started' })).toBeLessThan(20);
    const journal = await journalOf(tc.client.db, r.runId);
    expect(journal.slice(-2)).toEqual(['step.failed:each#1', 'run.failed']);
    await expectProjectionsMatch(tc.client.db, [r.runId]);
  });

  it('a list that is not a list fails the step; an empty list succeeds with []', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'not-a-list',
        steps: [
          { name: 'list', handler: () => ({ success: true, data: { rows: 1 } }) },
          { name: 'each', map: { over: 'list' }, handler: () => ({ success: true }) },
        ],
      }),
    );
    const bad = expectRight(await runPipeline('not-a-list', {}, { client: tc.client }));
    expect(bad.error).toBe('step "each" failed (not retryable): map over "list": its data is not a list');
    tc.registry.registerPipeline(
      definePipeline({
        name: 'empty-list',
        steps: [list(0), { name: 'each', map: { over: 'list' }, handler: () => ({ success: true }) }],
      }),
    );
    const empty = expectRight(await runPipeline('empty-list', {}, { client: tc.client }));
    expect(empty.status).toBe('success');
    expect(empty.state.steps[1]?.result).toEqual([]);
  });

  it('resuming with retryFailed re-runs only the failed items, never a succeeded one', async () => {
    let broken = true;
    const calls: number[] = [];
    tc.registry.registerPipeline(
      definePipeline({
        name: 'retry-failed-items',
        steps: [
          list(10),
          {
            name: 'each',
            map: { over: 'list', concurrency: 10 },
            handler: (ctx) => {
              calls.push(ctx.itemIndex as number);
              if (broken && ctx.itemIndex === 7) throw new NonRetryableError('not yet');
              return { success: true, data: { i: ctx.itemIndex ?? null } };
            },
          },
        ],
      }),
    );
    const first = expectRight(await runPipeline('retry-failed-items', {}, { client: tc.client }));
    expect(first.status).toBe('failed');
    broken = false;
    calls.length = 0;
    const again = await resumeRun(first.runId, { client: tc.client, retryFailed: true });
    expect(E.isRight(again) && again.right.status).toBe('success');
    expect(calls).toEqual([7]);
    const state = expectRight(await loadRunState(tc.client.db, first.runId));
    expect(state.steps[1]?.result).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
    await expectProjectionsMatch(tc.client.db, [first.runId]);
  });

  it('completes a map of 10,000 items, batching their completions into few commits', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'ten-thousand',
        steps: [list(10_000), { name: 'each', map: { over: 'list', concurrency: 16 }, handler: () => ({ success: true }) }],
      }),
    );
    const t0 = Date.now();
    const r = expectRight(await runPipeline('ten-thousand', {}, { client: tc.client }));
    const ms = Date.now() - t0;
    expect(r.status).toBe('success');
    expect((r.state.steps[1]?.result as unknown[]).length).toBe(10_000);
    expect(await countEvents(tc.client.db, r.runId, { type: 'item.succeeded' })).toBe(10_000);

    console.log(`10,000 items in ${ms} ms (${Math.round(10_000 / (ms / 1000))} items/s)`);
  }, 120_000);
});
