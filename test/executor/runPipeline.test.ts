import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import * as t from 'io-ts';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { readRunEvents } from '../../src/journal/readEvents';
import { checkProjections } from '../../src/projections/checkProjections';
import { NonRetryableError } from '../../src/executor/stepError';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectLeft, expectRight } from '../support/testDatabase';

let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'exec' });
});
afterAll(async () => tc.dispose());

const eventTypes = async (runId: string) =>
  expectRight(await readRunEvents(tc.client.db, runId)).map((e) =>
    'stepName' in e.event ? `${e.event.type}:${e.event.stepName}#${e.event.attempt}` : e.event.type,
  );

describe('running a pipeline', () => {
  it('runs every step in order, passing prevResults and the metadata along', async () => {
    const seen: unknown[] = [];
    tc.registry.registerPipeline(
      definePipeline({
        name: 'flow',
        steps: [
          {
            name: 'fetch',
            handler: (ctx) => ({ success: true, data: { userId: 42, batch: (ctx.metadata as { batch: number }).batch } }),
          },
          {
            name: 'enrich',
            handler: (ctx) => {
              seen.push(ctx.prevResults['fetch']?.data, ctx.idempotencyKey, ctx.attempt);
              return { success: true, data: { score: Number(ctx.prevResults['fetch']?.data?.userId) * 2 } };
            },
          },
          { name: 'store', handler: async () => ({ success: true }) },
        ],
      }),
    );
    const r = expectRight(await runPipeline('flow', { batch: 9 }, { client: tc.client }));
    expect(r.status).toBe('success');
    expect(r.stepsExecuted).toBe(3);
    expect(seen).toEqual([{ userId: 42, batch: 9 }, `${r.runId}:enrich`, 1]);
    expect(await eventTypes(r.runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:fetch#1',
      'step.succeeded:fetch#1',
      'step.started:enrich#1',
      'step.succeeded:enrich#1',
      'step.started:store#1',
      'step.succeeded:store#1',
      'run.succeeded',
    ]);
    expect(r.state.steps.map((s) => s.result)).toEqual([{ userId: 42, batch: 9 }, { score: 84 }, null]);
    expect(expectRight(await checkProjections(tc.client.db, [r.runId])).differences).toEqual([]);
  });

  it('runs 16 pipelines at once in one process without a listener-leak warning (one lease signal, 16 steps listening)', async () => {
    // A real process: jest's sandboxed `process` does not see Node's warnings.
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', 'widePipelines.js')], {
      env: { ...process.env, WIDE_DATABASE_URL: tc.client.db.url, WIDE_SCHEMA: tc.client.db.schema, WIDE_RUNS: '16' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'close')) as [number | null];
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ statuses: Array(16).fill('success'), mostInFlight: 16 });
  });

  it('retries a step that fails twice, then succeeds, honouring the delays', async () => {
    let calls = 0;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'flaky',
        steps: [
          {
            name: 'call-api',
            retry: { maxAttempts: 3, initialDelayMs: 200, backoffFactor: 2 },
            handler: (ctx) => {
              calls += 1;
              if (ctx.attempt < 3) throw new Error(`transient ${ctx.attempt}`);
              return { success: true, data: { ok: true } };
            },
          },
        ],
      }),
    );
    const r = expectRight(await runPipeline('flaky', {}, { client: tc.client }));
    expect(r.status).toBe('success');
    expect(calls).toBe(3);
    // Each attempt started no sooner than its delay after the failure before it (database clock).
    const journal = expectRight(await readRunEvents(tc.client.db, r.runId));
    const at = (type: string, attempt: number) =>
      Date.parse(
        journal.find((e) => e.event.type === type && 'attempt' in e.event && e.event.attempt === attempt)?.occurredAt ?? '',
      );
    expect(at('step.started', 2) - at('step.failed', 1)).toBeGreaterThanOrEqual(200);
    expect(at('step.started', 3) - at('step.failed', 2)).toBeGreaterThanOrEqual(400);
    expect(await eventTypes(r.runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:call-api#1',
      'step.failed:call-api#1',
      'step.retry_scheduled:call-api#1',
      'step.started:call-api#2',
      'step.failed:call-api#2',
      'step.retry_scheduled:call-api#2',
      'step.started:call-api#3',
      'step.succeeded:call-api#3',
      'run.succeeded',
    ]);
  });

  it('fails the run when retries are exhausted, recording the error', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'doomed',
        retry: { maxAttempts: 2, initialDelayMs: 10 },
        steps: [
          { name: 'a', handler: () => ({ success: false, error: 'upstream said no' }) },
          { name: 'b', handler: () => ({ success: true }) },
        ],
      }),
    );
    const r = expectRight(await runPipeline('doomed', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "a" failed after 2 attempt(s): upstream said no');
    expect(r.state.steps.map((s) => s.status)).toEqual(['failed', 'pending']);
    expect(r.state.steps[0]?.attemptCount).toBe(2);
    expect(expectRight(await checkProjections(tc.client.db, [r.runId])).differences).toEqual([]);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'fatal',
        retry: { maxAttempts: 5, initialDelayMs: 10 },
        steps: [
          {
            name: 'a',
            handler: () => {
              calls += 1;
              throw new NonRetryableError('bad input');
            },
          },
        ],
      }),
    );
    const r = expectRight(await runPipeline('fatal', {}, { client: tc.client }));
    expect(calls).toBe(1);
    expect(r.status).toBe('failed');
    expect(r.error).toContain('(not retryable): bad input');
  });

  it('times a step out, aborting its signal', async () => {
    let aborted = false;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'slow',
        steps: [
          {
            name: 'wait',
            timeoutMs: 150,
            handler: (ctx) =>
              new Promise((resolve) => {
                ctx.signal.addEventListener('abort', () => {
                  aborted = true;
                });
                setTimeout(() => resolve({ success: true }), 5_000).unref();
              }),
          },
        ],
      }),
    );
    const r = expectRight(await runPipeline('slow', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    expect(aborted).toBe(true);
    expect(r.state.steps[0]?.error).toMatchObject({ name: 'TimeoutError', message: 'step "wait" timed out after 150 ms' });
  });

  it('turns a result that cannot be journaled into a step failure', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'bigint', steps: [{ name: 'a', handler: () => ({ success: true, data: { n: BigInt(1) } }) }] }),
    );
    const r = expectRight(await runPipeline('bigint', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    expect(r.state.steps[0]?.error?.name).toBe('UnserializableResult');
    expect(expectRight(await checkProjections(tc.client.db, [r.runId])).differences).toEqual([]);
  });

  it('fails (never sticks) a run whose step returns text PostgreSQL cannot store, or throws it', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'unstorable',
        steps: [
          { name: 'lone-surrogate', handler: () => ({ success: true, data: { s: 'x\ud800y' } }) },
          { name: 'never', handler: () => ({ success: true }) },
        ],
      }),
    );
    const r = expectRight(await runPipeline('unstorable', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    expect(r.state.steps[0]?.error?.name).toBe('UnserializableResult');

    tc.registry.registerPipeline(
      definePipeline({
        name: 'nul-error',
        steps: [
          {
            name: 'a',
            handler: () => {
              throw new NonRetryableError('bad\u0000byte');
            },
          },
        ],
      }),
    );
    const n = expectRight(await runPipeline('nul-error', {}, { client: tc.client }));
    expect(n.status).toBe('failed');
    expect(n.state.steps[0]?.error?.message).toBe('bad\ufffdbyte');
    for (const runId of [r.runId, n.runId]) {
      expect(expectRight(await checkProjections(tc.client.db, [runId])).differences).toEqual([]);
    }
  });

  it('refuses metadata that cannot be stored, journaling nothing', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'meta-nul', steps: [{ name: 'a', handler: () => ({ success: true }) }] }),
    );
    const e = expectLeft(await runPipeline('meta-nul', { note: 'a\u0000b' }, { client: tc.client }));
    expect(e._tag).toBe('InvalidMetadata');
  });

  it('refuses metadata its codec rejects, journaling nothing', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'typed',
        metadata: t.type({ batchId: t.string }),
        steps: [{ name: 'a', handler: () => ({ success: true }) }],
      }),
    );
    const before = await tc.client.db.pool.query(`SELECT count(*)::int AS n FROM ${tc.client.db.qs}.run_events`);
    const e = expectLeft(await runPipeline('typed', { batchId: 7 }, { client: tc.client }));
    expect(e).toEqual({ _tag: 'InvalidMetadata', pipelineId: 'typed', message: 'batchId: expected string, got a number' });
    const after = await tc.client.db.pool.query(`SELECT count(*)::int AS n FROM ${tc.client.db.qs}.run_events`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
