import * as E from 'fp-ts/Either';
import { definePipeline, PipelineDefinitionError } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { resumeRun } from '../../src/recovery/resumeRun';
import { NonRetryableError } from '../../src/executor/stepError';
import type { StepDefinition } from '../../src/pipeline/types';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import { eventsOf, expectProjectionsMatch, journalOf, seedRun, waitUntilSilent } from '../support/recoveryHelpers';
import { ev } from '../support/eventBuilders';

const THRESHOLD_MS = 600;
let tc: TestClient;
let recoverer: OrbitClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'parallel', thresholdMs: THRESHOLD_MS });
  recoverer = await tc.peer({ thresholdMs: THRESHOLD_MS });
});
afterAll(async () => tc.dispose());

/** A promise and the function that resolves it: a step holds until the test (or another step) says. */
const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
};

const ok = (name: string, dependsOn?: string[], handler?: StepDefinition['handler']): StepDefinition => ({
  name,
  ...(dependsOn ? { dependsOn } : {}),
  handler: handler ?? (() => ({ success: true, data: { from: name } })),
});

describe('definePipeline with dependsOn', () => {
  const refusal = (f: () => unknown): PipelineDefinitionError => {
    try {
      f();
    } catch (e) {
      if (e instanceof PipelineDefinitionError) return e;
      throw e;
    }
    throw new Error('definePipeline accepted the definition');
  };

  it('refuses a dependency that is not a step, naming both', () => {
    const e = refusal(() => definePipeline({ name: 'p', steps: [ok('a'), ok('b', ['a', 'nope'])] }));
    expect(e.message).toBe('Invalid pipeline definition "p": step b depends on "nope", which is not a step of the pipeline');
    expect(e.dependencyProblem).toEqual({ kind: 'unknownDependency', step: 'b', dependency: 'nope' });
  });

  it('refuses a step depending on itself', () => {
    const e = refusal(() => definePipeline({ name: 'p', steps: [ok('a', ['a'])] }));
    expect(e.dependencyProblem).toEqual({ kind: 'unknownDependency', step: 'a', dependency: 'a' });
  });

  it('refuses a cycle, naming its steps in order', () => {
    const e = refusal(() => definePipeline({ name: 'p', steps: [ok('a', []), ok('b', ['d']), ok('c', ['b']), ok('d', ['c'])] }));
    expect(e.dependencyProblem).toEqual({ kind: 'cycle', steps: ['b', 'd', 'c'] });
    expect(e.message).toBe('Invalid pipeline definition "p": steps depend on each other in a circle: b → d → c → b');
  });

  it('refuses a maxParallel below 1', () => {
    expect(refusal(() => definePipeline({ name: 'p', steps: [ok('a')], maxParallel: 0 })).message).toContain('maxParallel');
  });

  it('keeps a linear pipeline linear: same hash, no dependency list, whether dependsOn is spelled out or not', () => {
    const plain = definePipeline({ name: 'p', steps: [ok('a'), ok('b'), ok('c')] });
    const spelled = definePipeline({ name: 'p', steps: [ok('a', []), ok('b', ['a']), ok('c', ['b'])] });
    expect(plain.dependencies).toBeNull();
    expect(spelled.dependencies).toBeNull();
    expect(spelled.definitionHash).toBe(plain.definitionHash);
    const dag = definePipeline({ name: 'p', steps: [ok('a'), ok('b', []), ok('c', ['a', 'b'])] });
    expect(dag.dependencies).toEqual({ a: [], b: [], c: ['a', 'b'] });
    expect(dag.definitionHash).not.toBe(plain.definitionHash);
  });

  it('hashes what a step is: a handler turned into a sleep or a wait, or a wait for another event, is a changed pipeline', () => {
    const plain = definePipeline({ name: 'p', steps: [ok('a'), ok('b')] });
    const sleeping = definePipeline({ name: 'p', steps: [ok('a'), { name: 'b', sleep: '1h' }] });
    const until = definePipeline({ name: 'p', steps: [ok('a'), { name: 'b', sleepUntil: () => 0 }] });
    const waiting = definePipeline({ name: 'p', steps: [ok('a'), { name: 'b', waitForEvent: { event: 'approved' } }] });
    const other = definePipeline({ name: 'p', steps: [ok('a'), { name: 'b', waitForEvent: { event: 'rejected' } }] });
    const hashes = [plain, sleeping, until, waiting, other].map((x) => x.definitionHash);
    expect(new Set(hashes).size).toBe(5);
    // A sleep's duration is not part of it: the end time is journaled when the sleep begins.
    expect(definePipeline({ name: 'p', steps: [ok('a'), { name: 'b', sleep: '2h' }] }).definitionHash).toBe(
      sleeping.definitionHash,
    );
  });
});

describe('running steps in parallel', () => {
  it('runs independent steps at the same time, a step after all of its dependencies, and sees only their results', async () => {
    // b and c each wait until the other has started: the run can only end if they run together.
    const bStarted = gate();
    const cStarted = gate();
    const seen: Record<string, unknown> = {};
    tc.registry.registerPipeline(
      definePipeline({
        name: 'diamond',
        steps: [
          ok('a'),
          ok('b', ['a'], async () => {
            bStarted.open();
            await cStarted.opened;
            return { success: true, data: { from: 'b' } };
          }),
          ok('c', ['a'], async () => {
            cStarted.open();
            await bStarted.opened;
            return { success: true, data: { from: 'c' } };
          }),
          ok('d', ['b', 'c'], (ctx) => {
            seen['d'] = ctx.prevResults;
            return { success: true };
          }),
          ok('e', ['a'], (ctx) => {
            seen['e'] = Object.keys(ctx.prevResults);
            return { success: true };
          }),
        ],
      }),
    );
    const r = expectRight(await runPipeline('diamond', {}, { client: tc.client }));
    expect(r.status).toBe('success');
    expect(r.stepsExecuted).toBe(5);
    expect(seen['d']).toEqual({
      a: { success: true, data: { from: 'a' } },
      b: { success: true, data: { from: 'b' } },
      c: { success: true, data: { from: 'c' } },
    });
    // e depends on a only: b's and c's results are not its to see, whether or not they were done.
    expect(seen['e']).toEqual(['a']);
    const events = await eventsOf(tc.client.db, r.runId);
    const created = events[0]?.event;
    expect(created?.type === 'run.created' && created.payload.dependsOn).toEqual({
      a: [],
      b: ['a'],
      c: ['a'],
      d: ['b', 'c'],
      e: ['a'],
    });
    // After a: b, c and e start in one append (one commit), in list order.
    const journal = await journalOf(tc.client.db, r.runId);
    expect(journal.slice(0, 7)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:a#1',
      'step.succeeded:a#1',
      'step.started:b#1',
      'step.started:c#1',
      'step.started:e#1',
    ]);
    expect(events[4]?.occurredAt).toBe(events[6]?.occurredAt);
    await expectProjectionsMatch(tc.client.db, [r.runId]);
  });

  it('never runs more than maxParallel steps of a run at once', async () => {
    let running = 0;
    let peak = 0;
    const step = (name: string): StepDefinition =>
      ok(name, [], async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
        return { success: true };
      });
    tc.registry.registerPipeline(
      definePipeline({ name: 'wide', maxParallel: 3, steps: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(step) }),
    );
    const r = expectRight(await runPipeline('wide', {}, { client: tc.client }));
    expect(r.status).toBe('success');
    expect(peak).toBeLessThanOrEqual(3);
    const journal = await journalOf(tc.client.db, r.runId);
    expect(journal.slice(2, 5)).toEqual(['step.started:a#1', 'step.started:b#1', 'step.started:c#1']);
  });

  it('when a step fails for good, the branches in flight finish (not cancelled), nothing new starts, then the run fails', async () => {
    const bRunning = gate();
    let bAborted = false;
    let cCalled = false;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'fail-branch',
        maxParallel: 2,
        steps: [
          ok('a', [], async () => {
            await bRunning.opened;
            throw new NonRetryableError('bad input');
          }),
          ok('b', [], async (ctx) => {
            bRunning.open();
            // Still running when a fails: it ends on its own, its signal does not fire.
            await new Promise((r) => setTimeout(r, 50));
            bAborted = ctx.signal.aborted;
            return { success: true, data: { done: true } };
          }),
          ok('c', [], () => {
            cCalled = true;
            return { success: true };
          }),
        ],
      }),
    );
    const r = expectRight(await runPipeline('fail-branch', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    expect(r.error).toBe('step "a" failed (not retryable): bad input');
    expect(bAborted).toBe(false);
    expect(cCalled).toBe(false);
    expect(await journalOf(tc.client.db, r.runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:a#1',
      'step.started:b#1',
      'step.failed:a#1',
      'step.succeeded:b#1',
      'run.failed',
    ]);
    await expectProjectionsMatch(tc.client.db, [r.runId]);
  });

  it('recovery re-runs exactly the steps in flight, each with its next attempt, never a succeeded one', async () => {
    const calls: string[] = [];
    const record = (name: string, dependsOn: string[]): StepDefinition =>
      ok(name, dependsOn, (ctx) => {
        calls.push(`${ctx.stepName}#${ctx.attempt}`);
        return { success: true, data: { from: name } };
      });
    const dependsOn = { a: [], b: ['a'], c: ['a'], d: ['a'], e: ['b', 'c', 'd'] };
    tc.registry.registerPipeline(
      definePipeline({
        name: 'dag-resume',
        steps: Object.entries(dependsOn).map(([name, deps]) => record(name, deps)),
      }),
    );
    // A worker died with b and c in flight (c on its second attempt) and d already done.
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'dag-resume',
      steps: Object.keys(dependsOn),
      dependsOn,
      events: [
        ev.started('a'),
        ev.succeeded('a'),
        ev.started('b'),
        ev.started('c'),
        ev.started('d'),
        ev.failed('c', 1, { retryable: true }),
        ev.retryScheduled('c', 1, 0),
        ev.succeeded('d'),
        ev.started('c', 2),
      ],
    });
    await waitUntilSilent(tc.client.db, THRESHOLD_MS, [runId]);
    const r = expectRight(await resumeRun(runId, { client: recoverer }));
    expect(r).toMatchObject({ status: 'success', reExecutedInFlight: ['b', 'c'] });
    expect(calls.slice(0, 2).sort()).toEqual(['b#2', 'c#3']);
    expect(calls.slice(2)).toEqual(['e#1']);
    const journal = await journalOf(tc.client.db, runId);
    expect(journal.slice(11, 14)).toEqual(['run.resumed', 'step.started:b#2', 'step.started:c#3']);
    await expectProjectionsMatch(tc.client.db, [runId]);
    expect(E.isRight(await resumeRun(runId, { client: recoverer }))).toBe(false);
  });
});
