import * as E from 'fp-ts/Either';
import * as root from '../../src/index';
import * as promised from '../../src/promise';
import { createTestClient, type TestClient } from '../support/testClient';
import { waitFor } from '../support/waitFor';

/*
 * `orbit-pipeline/promise`, derived from src/api/: the same functions, resolving to the Right and
 * rejecting with an OrbitFailure that carries the tagged Left; classes and generators too.
 */
let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'promise' });
});
afterAll(async () => tc.dispose());

const pipeline = root.definePipeline({
  name: 'promise-flow',
  steps: [
    { name: 'a', handler: () => ({ success: true, data: { n: 1 } }) },
    { name: 'b', handler: () => ({ success: true }) },
  ],
});

const rejection = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (err: unknown) =>
      err instanceof promised.OrbitFailure ? `${err.name}: ${err.error._tag}` : `not an OrbitFailure: ${String(err)}`,
  );

describe('orbit-pipeline/promise', () => {
  it('resolves to the plain value, and rejects with the tagged error', async () => {
    const client = tc.client;
    const ran = await promised.runPipeline(pipeline, {}, { client });
    expect(ran.status).toBe('success');
    expect((await promised.loadRunState(ran.runId, { client })).status).toBe('success');
    expect((await promised.listRuns({ client })).map((r) => r.runId)).toContain(ran.runId);
    expect((await promised.readRunEvents(ran.runId, { client })).map((e) => e.event.type)).toContain('run.succeeded');
    expect((await promised.replayRun(ran.runId, { seq: 1 }, { client })).state.status).toBe('pending');
    expect((await promised.auditJournal({ client, runIds: [ran.runId] })).problems).toEqual([]);
    expect(await rejection(promised.loadRunState('no-such-run', { client }))).toBe('OrbitFailure: RunNotFound');
    expect(await rejection(promised.runPipeline('no-such-pipeline', {}, { client }))).toBe('OrbitFailure: PipelineNotFound');
    // The spec's resumeRun never rejects: { success, error } instead.
    expect(await promised.resumeRun('no-such-run', { client })).toMatchObject({
      success: false,
      failure: { _tag: 'RunNotFound' },
    });
  });

  it('streams exports as plain batches', async () => {
    const ran = await promised.runPipeline(pipeline, {}, { client: tc.client });
    const batches: number[] = [];
    for await (const batch of promised.exportRuns({ runIds: [ran.runId] }, { client: tc.client })) batches.push(batch.length);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(7);
    const failing = (async () => {
      for await (const batch of promised.exportRuns({ runIds: ['no-such-run'] }, { client: tc.client })) void batch;
    })();
    expect(await rejection(failing)).toBe('OrbitFailure: RunNotFound');
  });

  it('queues a run that a worker started through it executes; the orchestrator and the plan resolve too', async () => {
    const client = tc.client;
    const { runId } = await promised.enqueueRun('promise-flow', {}, { client });
    const worker = await promised.startWorker({ client });
    try {
      await waitFor(async () => (await promised.loadRunState(runId, { client })).status === 'success', {
        what: 'the worker to run the queued run',
        timeoutMs: 30_000,
      });
    } finally {
      await worker.stop();
    }
    expect(await promised.planRecovery({ client })).toEqual([]);
    const summary = await new promised.RunRecoveryOrchestrator({ client }).recoverInterruptedRuns();
    expect(summary).toMatchObject({ detected: 0, recovered: 0, failed: 0 });
  });

  it('the root returns Either values for the same calls', async () => {
    const r = await root.loadRunState('no-such-run', { client: tc.client });
    expect(E.isLeft(r) && r.left._tag).toBe('RunNotFound');
  });
});
