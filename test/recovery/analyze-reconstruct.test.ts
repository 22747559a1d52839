import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { analyzeStepCompletion } from '../../src/api/analyzeStepCompletion';
import { reconstructStepContext } from '../../src/api/reconstructStepContext';
import { resumeRun } from '../../src/recovery/resumeRun';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import type { StepContext } from '../../src/pipeline/types';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectLeft, expectRight } from '../support/testDatabase';
import { countEvents, eventsOf, expectProjectionsMatch, seedRun, waitFor } from '../support/recoveryHelpers';
import { ev } from '../support/eventBuilders';

let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'reconstruct', thresholdMs: 600 });
});
afterAll(async () => tc.dispose());

/** A custom codec in the style of io-ts-types' DateFromISOString: Date in code, ISO string in the journal. */
const DateFromISOString = new t.Type<Date, string, unknown>(
  'DateFromISOString',
  (u): u is Date => u instanceof Date,
  (u, c) => (typeof u === 'string' && !Number.isNaN(Date.parse(u)) ? t.success(new Date(u)) : t.failure(u, c)),
  (d) => d.toISOString(),
);

const STEPS = ['extract', 'transform', 'load', 'notify'];

describe('analyzeStepCompletion', () => {
  it('lists completed, in-flight and pending steps of a run whose worker died mid-step', async () => {
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'an-inflight',
      steps: STEPS,
      events: [ev.started('extract'), ev.succeeded('extract'), ev.started('transform')],
    });
    expect(expectRight(await analyzeStepCompletion(runId, { client: tc.client }))).toEqual({
      runId,
      pipelineId: 'an-inflight',
      status: 'running',
      completedSteps: ['extract'],
      failedSteps: [],
      inFlightSteps: ['transform'],
      retryingSteps: [],
      pendingSteps: ['load', 'notify'],
      nextStep: 'transform',
      readySteps: ['transform'],
    });
  });

  it('lists a step waiting for its retry with the next attempt number and due time', async () => {
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'an-retrying',
      steps: STEPS,
      events: [
        ev.started('extract'),
        ev.succeeded('extract'),
        ev.started('transform'),
        ev.failed('transform', 1, { retryable: true }),
        ev.retryScheduled('transform', 1, 5000),
      ],
    });
    const events = await eventsOf(tc.client.db, runId);
    const scheduledAt = Date.parse(events[events.length - 1]?.occurredAt ?? '');
    const a = expectRight(await analyzeStepCompletion(runId, { client: tc.client }));
    expect(a).toMatchObject({
      completedSteps: ['extract'],
      failedSteps: [],
      inFlightSteps: [],
      retryingSteps: [{ name: 'transform', nextAttempt: 2, nextRetryAt: new Date(scheduledAt + 5000).toISOString() }],
      pendingSteps: ['load', 'notify'],
      nextStep: 'transform',
    });
  });

  it('lists a step that failed for good as failed, and everything after it as pending', async () => {
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'an-failed',
      steps: STEPS,
      events: [
        ev.started('extract'),
        ev.succeeded('extract'),
        ev.started('transform'),
        ev.succeeded('transform'),
        ev.started('load'),
        ev.failed('load', 1, { retryable: false }),
      ],
    });
    expect(expectRight(await analyzeStepCompletion(runId, { client: tc.client }))).toMatchObject({
      status: 'running',
      completedSteps: ['extract', 'transform'],
      failedSteps: ['load'],
      inFlightSteps: [],
      retryingSteps: [],
      pendingSteps: ['notify'],
      nextStep: 'load',
    });
  });

  it('reports an unknown run as RunNotFound', async () => {
    const e = expectLeft(await analyzeStepCompletion('run-that-never-was', { client: tc.client }));
    expect(e).toEqual({ _tag: 'RunNotFound', runId: 'run-that-never-was' });
    expect(formatError(e)).toBe('Run not found: run-that-never-was');
  });
});

describe('reconstructStepContext', () => {
  const Meta = t.type({ batchId: t.string, since: DateFromISOString });
  type Meta = t.TypeOf<typeof Meta>;
  const Fetched = t.type({ fetchedAt: DateFromISOString, rows: t.number });
  const FETCHED_AT = new Date('2025-01-15T10:30:00.123Z');

  it('rebuilds exactly the context the interrupted attempt saw, with the next attempt number', async () => {
    const seen: { ctx?: StepContext<Meta> } = {};
    const hardStop = new AbortController();
    tc.registry.registerPipeline(
      definePipeline<Meta>({
        name: 'ctx-rebuild',
        metadata: Meta,
        steps: [
          { name: 'fetch', output: Fetched, handler: () => ({ success: true, data: { fetchedAt: FETCHED_AT, rows: 3 } }) },
          {
            name: 'count',
            handler: (ctx) => ({ success: true, data: { rows: (ctx.prevResults['fetch']?.data?.rows as number) + 1 } }),
          },
          { name: 'bare', handler: () => ({ success: true }) },
          {
            name: 'enrich',
            handler: async (ctx) => {
              seen.ctx = ctx;
              // Stays in flight until the process is stopped hard.
              await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
              return { success: true };
            },
          },
          { name: 'store', handler: () => ({ success: true }) },
        ],
      }),
    );
    let runId = '';
    const running = runPipeline(
      'ctx-rebuild',
      { batchId: 'b-7', since: '2025-01-01T00:00:00.000Z' },
      { client: tc.client, abortSignal: hardStop.signal, onClaimed: (id) => (runId = id) },
    );
    const original = await waitFor('enrich to start', () => seen.ctx);
    hardStop.abort();
    const stopped = expectRight(await running);
    expect(stopped).toMatchObject({ status: 'running', released: true });

    // The handler saw decoded values: Dates, not strings.
    expect(original.metadata.since).toBeInstanceOf(Date);
    expect(original.prevResults['fetch']?.data?.fetchedAt).toBeInstanceOf(Date);

    const rebuilt = expectRight(await reconstructStepContext(runId, 'ctx-rebuild', { client: tc.client }));
    expect(rebuilt.stepName).toBe('enrich');
    expect(rebuilt.runId).toBe(runId);
    expect(rebuilt.pipelineId).toBe('ctx-rebuild');
    expect(original.attempt).toBe(1);
    expect(rebuilt.attempt).toBe(2);
    expect(rebuilt.idempotencyKey).toBe(`${runId}:enrich`);
    expect(rebuilt.idempotencyKey).toBe(original.idempotencyKey);
    expect(rebuilt.metadata).toEqual({ batchId: 'b-7', since: new Date('2025-01-01T00:00:00.000Z') });
    expect(rebuilt.metadata).toEqual(original.metadata);
    expect((rebuilt.metadata as Meta).since).toBeInstanceOf(Date);
    expect(rebuilt.prevResults).toEqual({
      fetch: { success: true, data: { fetchedAt: FETCHED_AT, rows: 3 } },
      count: { success: true, data: { rows: 4 } },
      bare: { success: true },
    });
    expect(rebuilt.prevResults).toEqual(original.prevResults);
    expect(rebuilt.prevResults['fetch']?.data?.fetchedAt).toBeInstanceOf(Date);
    expect(rebuilt.signal.aborted).toBe(false);
    await expectProjectionsMatch(tc.client.db, [runId]);
  });

  it('continues the attempt count of a step that had already been retried', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'ctx-attempts', steps: STEPS.map((name) => ({ name, handler: () => ({ success: true }) })) }),
    );
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'ctx-attempts',
      steps: STEPS,
      events: [
        ev.started('extract'),
        ev.succeeded('extract', 1, { n: 1 }),
        ev.started('transform', 1),
        ev.failed('transform', 1, { retryable: true }),
        ev.retryScheduled('transform', 1, 0),
        ev.started('transform', 2),
      ],
    });
    const ctx = expectRight(await reconstructStepContext(runId, 'ctx-attempts', { client: tc.client }));
    expect(ctx).toMatchObject({ stepName: 'transform', attempt: 3, idempotencyKey: `${runId}:transform`, metadata: {} });
    expect(ctx.prevResults).toEqual({ extract: { success: true, data: { n: 1 } } });
  });

  it('refuses a projection row edited by hand, naming the field that disagrees', async () => {
    const db = tc.client.db;
    tc.registry.registerPipeline(
      definePipeline({ name: 'ctx-tampered', steps: STEPS.map((name) => ({ name, handler: () => ({ success: true }) })) }),
    );
    const { runId } = await seedRun(db, {
      pipelineId: 'ctx-tampered',
      steps: STEPS,
      events: [ev.started('extract'), ev.succeeded('extract'), ev.started('transform')],
    });
    await db.pool.query(`UPDATE ${db.qs}.steps SET attempt_count = 5 WHERE run_id = $1 AND name = 'transform'`, [runId]);
    try {
      const e = expectLeft(await reconstructStepContext(runId, 'ctx-tampered', { client: tc.client }));
      expect(e).toEqual({
        _tag: 'ProjectionMismatch',
        runId,
        differences: ['steps[transform].attempt_count: projection has 5, journal says 1'],
      });
      expect(formatError(e)).toBe(
        `Projections disagree with the journal for run ${runId}: steps[transform].attempt_count: projection has 5, journal says 1`,
      );
      // resumeRun refuses too, and writes nothing.
      const before = await countEvents(db, runId);
      const r = await resumeRun(runId, { client: tc.client, force: true });
      expect(E.isRight(r)).toBe(false);
      expect(E.isLeft(r) && r.left._tag).toBe('ProjectionMismatch');
      expect(await countEvents(db, runId)).toBe(before);
      // The journal itself is fine: reading it without the projection check works.
      const ctx = expectRight(
        await reconstructStepContext(runId, 'ctx-tampered', { client: tc.client, checkProjections: false }),
      );
      expect(ctx).toMatchObject({ stepName: 'transform', attempt: 2 });
    } finally {
      await db.pool.query(`UPDATE ${db.qs}.steps SET attempt_count = 1 WHERE run_id = $1 AND name = 'transform'`, [runId]);
    }
    await expectProjectionsMatch(db, [runId]);
  });

  it('reports a hand-inserted undecodable event as EventDecodeError naming run, seq and field', async () => {
    const db = tc.client.db;
    tc.registry.registerPipeline(
      definePipeline({ name: 'ctx-corrupt', steps: STEPS.map((name) => ({ name, handler: () => ({ success: true }) })) }),
    );
    const insertRaw = (
      runId: string,
      seq: number,
      type: string,
      stepName: string | null,
      attempt: number | null,
      payload: string,
    ) =>
      db.pool.query(
        `INSERT INTO ${db.qs}.run_events (run_id, seq, type, step_name, attempt, payload, writer, event_id, hash)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'intruder', gen_random_uuid(), '\\x00'::bytea)`,
        [runId, seq, type, stepName, attempt, payload],
      );

    const missingResult = await seedRun(db, {
      pipelineId: 'ctx-corrupt',
      steps: STEPS,
      events: [ev.started('extract'), ev.succeeded('extract'), ev.started('transform')],
    });
    await insertRaw(missingResult.runId, 6, 'step.succeeded', 'transform', 1, '{}');
    const e1 = expectLeft(await reconstructStepContext(missingResult.runId, 'ctx-corrupt', { client: tc.client }));
    expect(e1).toMatchObject({
      _tag: 'EventDecodeError',
      runId: missingResult.runId,
      seq: 6,
      type: 'step.succeeded',
      field: 'payload.result',
    });
    expect(formatError(e1)).toMatch(
      new RegExp(`^Undecodable event in run ${missingResult.runId} at seq 6 \\(step\\.succeeded\\): field payload\\.result: `),
    );
    expect(expectLeft(await analyzeStepCompletion(missingResult.runId, { client: tc.client }))).toMatchObject({
      _tag: 'EventDecodeError',
      seq: 6,
    });

    const unknownType = await seedRun(db, { pipelineId: 'ctx-corrupt', steps: STEPS, events: [ev.started('extract')] });
    await insertRaw(unknownType.runId, 4, 'step.exploded', 'extract', 1, '{}');
    const e2 = expectLeft(await reconstructStepContext(unknownType.runId, 'ctx-corrupt', { client: tc.client }));
    expect(e2).toEqual({
      _tag: 'EventDecodeError',
      runId: unknownType.runId,
      seq: 4,
      type: 'step.exploded',
      field: 'type',
      message: 'unknown event type',
    });

    // Recovery refuses such a run without writing to it.
    const r = await resumeRun(unknownType.runId, { client: tc.client, force: true });
    expect(E.isRight(r)).toBe(false);
    expect(E.isLeft(r) && r.left._tag).toBe('EventDecodeError');
    expect(await countEvents(db, unknownType.runId)).toBe(4);
  });

  it('names the step.succeeded event whose result no longer decodes with the step output codec', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'ctx-codec-changed',
        steps: [
          { name: 'fetch', output: Fetched, handler: () => ({ success: true, data: { fetchedAt: FETCHED_AT, rows: 1 } }) },
          { name: 'use', handler: () => ({ success: true }) },
          { name: 'last', handler: () => ({ success: true }) },
        ],
      }),
    );
    // Written by an older version whose fetch step returned a different shape.
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'ctx-codec-changed',
      steps: ['fetch', 'use', 'last'],
      events: [ev.started('fetch'), ev.succeeded('fetch', 1, { fetchedAt: 'yesterday', rows: 1 }), ev.started('use')],
    });
    const e = expectLeft(await reconstructStepContext(runId, 'ctx-codec-changed', { client: tc.client }));
    expect(e).toMatchObject({ _tag: 'EventDecodeError', runId, type: 'step.succeeded', field: 'payload.result (fetch)' });
    // The step.succeeded of fetch is seq 4; seq 5 is the step.started of `use`.
    expect(e).toMatchObject({ seq: 4 });
  });

  it('refuses a pipeline id that is not the run’s with InvalidInput', async () => {
    tc.registry.registerPipeline(
      definePipeline({ name: 'ctx-owner', steps: STEPS.map((name) => ({ name, handler: () => ({ success: true }) })) }),
    );
    tc.registry.registerPipeline(
      definePipeline({ name: 'ctx-other', steps: [{ name: 'x', handler: () => ({ success: true }) }] }),
    );
    const { runId } = await seedRun(tc.client.db, { pipelineId: 'ctx-owner', steps: STEPS, events: [ev.started('extract')] });
    const e = expectLeft(await reconstructStepContext(runId, 'ctx-other', { client: tc.client }));
    expect(e).toEqual({
      _tag: 'InvalidInput',
      what: 'pipeline id',
      message: `run ${runId} belongs to pipeline "ctx-owner", not "ctx-other"`,
    });
    expect(formatError(e)).toBe(`Invalid pipeline id: run ${runId} belongs to pipeline "ctx-owner", not "ctx-other"`);
    expect(expectLeft(await reconstructStepContext('run-nobody-knows', 'ctx-owner', { client: tc.client }))).toEqual({
      _tag: 'RunNotFound',
      runId: 'run-nobody-knows',
    });
  });
});
