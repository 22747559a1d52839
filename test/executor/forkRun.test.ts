/**
 * forkRun / `orbit fork` (issue 19 item 6): a new run of a finished run from one of its steps. The
 * steps before it (in a DAG: every step neither it nor downstream of it) keep their journaled
 * results and their handlers are not called again; both runs verify; bad forks are refused with
 * nothing written.
 */
import { definePipeline } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { forkRun } from '../../src/api/forkRun';
import { verifyRun } from '../../src/api/verifyRun';
import { cancelRun } from '../../src/api/cancelRun';
import { enqueueRun } from '../../src/executor/queue';
import { formatError } from '../../src/errors';
import { readRunEvents } from '../../src/journal/readEvents';
import { checkProjections } from '../../src/projections/checkProjections';
import { NonRetryableError } from '../../src/executor/stepError';
import type { StepContext } from '../../src/pipeline/types';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectLeft, expectRight } from '../support/testDatabase';

let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'fork' });
});
afterAll(async () => tc.dispose());

const eventTypes = async (runId: string) =>
  expectRight(await readRunEvents(tc.client.db, runId)).map((e) =>
    'stepName' in e.event ? `${e.event.type}:${e.event.stepName}#${e.event.attempt}` : e.event.type,
  );

const verified = async (runId: string) => {
  const v = expectRight(await verifyRun(runId, { client: tc.client }));
  expect(v.problems).toEqual([]);
  expect(v.verified).toBe(true);
  expect(expectRight(await checkProjections(tc.client.db, [runId])).differences).toEqual([]);
};

describe('forkRun', () => {
  const calls: string[] = [];
  let broken = true;
  const step = (name: string) => ({
    name,
    handler: (ctx: StepContext) => {
      calls.push(name);
      if (name === 'transform' && broken) throw new NonRetryableError('bad mapping');
      return { success: true as const, data: { step: name, saw: Object.keys(ctx.prevResults), batch: ctx.metadata } };
    },
  });

  beforeAll(() => {
    tc.registry.registerPipeline(definePipeline({ name: 'linear', steps: ['extract', 'transform', 'load'].map(step) }));
  });

  it('re-runs a failed run from the named step, reusing the earlier results (their handlers not called), and both runs verify', async () => {
    calls.length = 0;
    broken = true;
    const failed = expectRight(await runPipeline('linear', { batch: 'b-7' }, { client: tc.client }));
    expect(failed.status).toBe('failed');
    expect(calls).toEqual(['extract', 'transform']);

    broken = false; // the cause was fixed
    calls.length = 0;
    const f = expectRight(await forkRun(failed.runId, { client: tc.client, fromStep: 'transform', triggeredBy: 'test' }));
    expect(f.status).toBe('success');
    expect(f.runId).not.toBe(failed.runId);
    expect(f.reused).toEqual(['extract']);
    expect(f.rerun).toEqual(['transform', 'load']);
    expect(f.forkedFrom).toEqual({ runId: failed.runId, step: 'transform' });
    expect(calls).toEqual(['transform', 'load']);
    expect(f.stepsExecuted).toBe(2);

    expect(await eventTypes(f.runId)).toEqual([
      'run.created',
      'step.reused:extract#1',
      'run.claimed',
      'step.started:transform#1',
      'step.succeeded:transform#1',
      'step.started:load#1',
      'step.succeeded:load#1',
      'run.succeeded',
    ]);
    const events = expectRight(await readRunEvents(tc.client.db, f.runId));
    const created = events[0]?.event;
    expect(created?.type === 'run.created' && created.payload).toMatchObject({
      pipelineId: 'linear',
      metadata: { batch: 'b-7' },
      triggeredBy: 'test',
      forkedFrom: { runId: failed.runId, step: 'transform' },
    });
    // The reused result is the source's, named by run and seq; the fork's steps see it as their prevResults.
    const source = expectRight(await readRunEvents(tc.client.db, failed.runId));
    const extractSucceeded = source.find((e) => e.event.type === 'step.succeeded' && e.event.stepName === 'extract');
    expect(events[1]?.event).toMatchObject({
      payload: { fromRun: failed.runId, fromSeq: extractSucceeded?.seq, result: { step: 'extract', saw: [] } },
    });
    expect(f.state.steps.find((s) => s.name === 'transform')?.result).toMatchObject({ saw: ['extract'] });

    // The source is only read: its journal is as it was, and it still verifies.
    expect(await eventTypes(failed.runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:extract#1',
      'step.succeeded:extract#1',
      'step.started:transform#1',
      'step.failed:transform#1',
      'run.failed',
    ]);
    await verified(failed.runId);
    await verified(f.runId);

    // A fork of a fork reuses the reused result, naming the run it read it from.
    calls.length = 0;
    const ff = expectRight(await forkRun(f.runId, { client: tc.client, fromStep: 'load' }));
    expect(ff.status).toBe('success');
    expect(calls).toEqual(['load']);
    expect(ff.reused).toEqual(['extract', 'transform']);
    const ffEvents = expectRight(await readRunEvents(tc.client.db, ff.runId));
    expect(ffEvents[1]?.event).toMatchObject({ type: 'step.reused', payload: { fromRun: f.runId, fromSeq: 2 } });
    await verified(ff.runId);
  });

  it('forking from the first step reuses nothing; a succeeded run can be forked too', async () => {
    broken = false;
    const ok = expectRight(await runPipeline('linear', {}, { client: tc.client }));
    calls.length = 0;
    const f = expectRight(await forkRun(ok.runId, { client: tc.client, fromStep: 'extract' }));
    expect(f.reused).toEqual([]);
    expect(calls).toEqual(['extract', 'transform', 'load']);
    await verified(f.runId);
  });

  it('refuses an unknown run, an unknown step, a run that has not ended and a changed pipeline, writing nothing', async () => {
    const before = Number((await tc.client.db.pool.query(`SELECT count(*) AS n FROM ${tc.client.db.qs}.run_events`)).rows[0].n);

    const unknown = expectLeft(await forkRun('run_nope', { client: tc.client, fromStep: 'load' }));
    expect(formatError(unknown)).toBe('Run not found: run_nope');

    broken = false;
    const ok = expectRight(await runPipeline('linear', {}, { client: tc.client }));
    const afterOk = before + 9;
    const badStep = expectLeft(await forkRun(ok.runId, { client: tc.client, fromStep: 'laod' }));
    expect(formatError(badStep)).toBe(`Invalid step: run ${ok.runId} has no step "laod" (its steps: extract, transform, load)`);

    // A queued run (pending) and a cancelled one.
    const queued = expectRight(await enqueueRun('linear', {}, { client: tc.client }));
    const pending = expectLeft(await forkRun(queued.runId, { client: tc.client, fromStep: 'load' }));
    expect(pending).toMatchObject({ _tag: 'RunNotForkable', status: 'pending' });
    expect(formatError(pending)).toContain('cannot be forked: it is still pending');

    // A changed pipeline: same name, another definition.
    const { createRegistry } = await import('../../src/pipeline/registry');
    const reg = createRegistry();
    reg.registerPipeline(definePipeline({ name: 'linear', steps: ['extract', 'transform', 'load', 'notify'].map(step) }));
    const drifted = expectLeft(await forkRun(ok.runId, { client: { ...tc.client, registry: reg }, fromStep: 'load' }));
    expect(drifted).toMatchObject({ _tag: 'RunNotForkable', status: 'success' });
    expect(formatError(drifted)).toContain('changed since the run was created');

    const after = Number((await tc.client.db.pool.query(`SELECT count(*) AS n FROM ${tc.client.db.qs}.run_events`)).rows[0].n);
    expect(after).toBe(afterOk + 1); // only the queued run's run.created
    expectRight(await cancelRun(queued.runId, { client: tc.client }));
  });

  it('refuses a running run', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let started: () => void = () => undefined;
    const inStep = new Promise<void>((r) => (started = r));
    tc.registry.registerPipeline(
      definePipeline({
        name: 'slow',
        steps: [
          {
            name: 'wait',
            handler: async () => {
              started();
              await gate;
              return { success: true as const };
            },
          },
        ],
      }),
    );
    let runId = '';
    const running = runPipeline('slow', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await inStep;
    const r = expectLeft(await forkRun(runId, { client: tc.client, fromStep: 'wait' }));
    expect(r).toMatchObject({ _tag: 'RunNotForkable', status: 'running' });
    expect(formatError(r)).toContain('it is still running (held by');
    release();
    expect(expectRight(await running).status).toBe('success');
  });

  it('in a DAG, reuses every succeeded step that is neither the named step nor downstream of it', async () => {
    // a -> (b, c); b -> d; c fails. Fork from c: a and b (and not d, which never ran) are reused... d runs.
    let cBroken = true;
    const dagCalls: string[] = [];
    const h = (name: string) => (ctx: StepContext) => {
      dagCalls.push(name);
      if (name === 'c' && cBroken) throw new NonRetryableError('c broke');
      return { success: true as const, data: { name, saw: Object.keys(ctx.prevResults).sort() } };
    };
    tc.registry.registerPipeline(
      definePipeline({
        name: 'dag',
        steps: [
          { name: 'a', handler: h('a') },
          { name: 'b', dependsOn: ['a'], handler: h('b') },
          { name: 'c', dependsOn: ['a'], handler: h('c') },
          { name: 'd', dependsOn: ['b'], handler: h('d') },
          { name: 'e', dependsOn: ['c', 'd'], handler: h('e') },
        ],
      }),
    );
    const failed = expectRight(await runPipeline('dag', {}, { client: tc.client }));
    expect(failed.status).toBe('failed');
    const succeeded = failed.state.steps.filter((s) => s.status === 'success').map((s) => s.name);
    expect(succeeded).toEqual(expect.arrayContaining(['a', 'b']));
    cBroken = false;
    dagCalls.length = 0;
    const f = expectRight(await forkRun(failed.runId, { client: tc.client, fromStep: 'c' }));
    expect(f.status).toBe('success');
    // c and e are downstream of c; d is not, and ran in the source only if it got there before c failed.
    expect(f.reused).toEqual(succeeded.filter((n) => n !== 'c' && n !== 'e'));
    expect(dagCalls.sort()).toEqual(['a', 'b', 'c', 'd', 'e'].filter((n) => !f.reused.includes(n)).sort());
    expect(f.state.steps.find((s) => s.name === 'e')?.result).toMatchObject({ saw: ['a', 'b', 'c', 'd'] });
    await verified(f.runId);
    await verified(failed.runId);
  });
});
