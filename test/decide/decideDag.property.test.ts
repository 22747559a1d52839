import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { decideNext } from '../../src/decide/decideNext';
import type { Decision, Outcome } from '../../src/decide/decision';
import type { RunEvent } from '../../src/events/runEvents';
import { foldEvents } from '../../src/fold/evolve';
import type { RunState } from '../../src/fold/runState';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline } from '../../src/pipeline/types';
import { RUN_ID, claimed, deepFreeze, record } from '../support/eventBuilders';

/*
 * The executor's loop over a DAG, without I/O: several attempts in flight, ending in any order,
 * crashes (every attempt lost, another worker resumes), graceful stops. Whatever happens, the
 * decider proposes only events the fold accepts, never starts a step before all of its
 * dependencies succeeded, never runs more than maxParallel at once, never succeeds a step twice,
 * and a failed step fails the run only once nothing else is in flight.
 */

interface Dag {
  /** Step names in list order. */
  readonly steps: readonly string[];
  readonly deps: Readonly<Record<string, readonly string[]>>;
}

/** Random DAGs: deps among earlier steps of a topological order, listed in a random order. */
const dag: fc.Arbitrary<Dag> = fc
  .integer({ min: 1, max: 7 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
    ),
  )
  .map(([n, m, order]) => {
    const name = (i: number) => `s${i}`;
    const deps: Record<string, string[]> = {};
    for (let i = 0; i < n; i++)
      deps[name(i)] = Array.from({ length: i }, (_, j) => j)
        .filter((j) => m[i]?.[j])
        .map(name);
    return { steps: order.map(name), deps };
  });

type Happening = 'succeed' | 'failRetryable' | 'failFatal' | 'crash' | 'stop';
const happening = fc.constantFrom<Happening>(
  'succeed',
  'succeed',
  'succeed',
  'succeed',
  'failRetryable',
  'failFatal',
  'crash',
  'stop',
);

const pipelineOf = (d: Dag, maxParallel: number, maxAttempts: number): Pipeline =>
  definePipeline({
    name: 'dag',
    steps: d.steps.map((name) => ({ name, dependsOn: d.deps[name] ?? [], handler: () => ({ success: true as const }) })),
    retry: { maxAttempts, initialDelayMs: 100 },
    maxParallel,
  });

interface Lived {
  readonly journal: readonly RunEvent[];
  readonly state: RunState;
  readonly ended: boolean;
}

const live = (d: Dag, maxParallel: number, maxAttempts: number, script: readonly [Happening, number][]): Lived => {
  const pipeline = pipelineOf(d, maxParallel, maxAttempts);
  const journal: RunEvent[] = [];
  let state: RunState | null = null;
  let worker = 'w0';
  let stopping = false;
  const executing = new Map<string, number>();
  const succeeded = new Set<string>();
  let failedForGood = false;
  const decide = (o: Outcome): E.Either<unknown, Decision> => {
    const frozen = state === null ? null : deepFreeze(state);
    return decideNext(frozen, pipeline, { ...o, executing: new Set(executing.keys()) });
  };
  const must = (r: E.Either<unknown, Decision>): Decision => {
    if (E.isLeft(r)) throw new Error(`decideNext refused: ${JSON.stringify(r.left)}`);
    return r.right;
  };
  const append = (events: readonly RunEvent[]) => {
    for (const e of events) {
      if (e.type === 'step.started') {
        // Independently of the fold: every dependency succeeded, and no second start in flight.
        for (const dep of d.deps[e.stepName] ?? []) expect(succeeded.has(dep)).toBe(true);
        expect(failedForGood).toBe(false);
      }
      if (e.type === 'step.succeeded') {
        expect(succeeded.has(e.stepName)).toBe(false);
        succeeded.add(e.stepName);
      }
      if (e.type === 'step.failed' && !e.payload.retryable) failedForGood = true;
      if (e.type === 'run.failed') expect(executing.size).toBe(0);
    }
    const folded = foldEvents(state, record(RUN_ID, events, { firstSeq: journal.length + 1 }));
    if (E.isLeft(folded)) throw new Error(`illegal events ${JSON.stringify(events)}: ${JSON.stringify(folded.left)}`);
    journal.push(...events);
    state = folded.right;
  };
  const resume = (): Decision => {
    executing.clear();
    stopping = false;
    worker = `w${Number(worker.slice(1)) + 1}`;
    const r = decide({ kind: 'resume', worker, stopping: false, retryFailed: false, force: false, maxRecoveries: 1000 });
    // A crash after a step failed for good, while other branches were in flight: like any run
    // with a failed step, only a retry of the failed steps resumes it.
    if (E.isLeft(r)) {
      failedForGood = false;
      return must(decide({ kind: 'resume', worker, stopping: false, retryFailed: true, force: false, maxRecoveries: 1000 }));
    }
    return r.right;
  };
  const created: RunEvent = {
    type: 'run.created',
    payload: {
      pipelineId: 'dag',
      steps: [...d.steps],
      definitionHash: pipeline.definitionHash,
      metadata: {},
      triggeredBy: 'test',
      ...(pipeline.dependencies !== null
        ? { dependsOn: Object.fromEntries(d.steps.map((s) => [s, [...(d.deps[s] ?? [])]])) }
        : {}),
    },
  };
  let dec = must(decide({ kind: 'claim', runId: RUN_ID, events: [created, claimed(worker)], worker, stopping: false }));
  for (let i = 0; ; i++) {
    append(dec.events);
    const s = state as unknown as RunState;
    const next = dec.next;
    if (next.kind === 'finished') return { journal, state: s, ended: true };
    if (next.kind === 'released') {
      expect(executing.size).toBe(0);
      dec = resume();
      continue;
    }
    for (const st of next.starts) {
      expect(executing.has(st.stepName)).toBe(false);
      executing.set(st.stepName, st.attempt);
    }
    expect(executing.size).toBeLessThanOrEqual(maxParallel);
    const tick = (now: string) => must(decide({ kind: 'tick', now, worker, stopping }));
    if (next.decideAgain) {
      dec = tick(s.lastEventAt);
      continue;
    }
    if (executing.size === 0) {
      if (next.wakeAt === null) throw new Error('nothing executing, nothing to wait for');
      dec = tick(next.wakeAt);
      continue;
    }
    const step = script[i];
    if (step === undefined) return { journal, state: s, ended: false };
    const [what, pick] = step;
    if (what === 'crash') {
      dec = resume();
      continue;
    }
    if (what === 'stop') stopping = true;
    // One of the attempts in flight ends (any of them: branches end in any order).
    const names = [...executing.keys()];
    const stepName = names[pick % names.length] as string;
    const attempt = executing.get(stepName) as number;
    executing.delete(stepName);
    const at = { kind: 'attempt' as const, stepName, attempt, random: 0.5, worker, stopping };
    const error = { name: 'Error', message: 'boom' };
    dec = must(
      decide(
        what === 'succeed' || what === 'stop'
          ? { ...at, result: { kind: 'succeeded', result: i } }
          : { ...at, result: { kind: 'failed', error, retryable: what === 'failRetryable' } },
      ),
    );
  }
};

const script = fc.array(fc.tuple(happening, fc.nat(20)), { maxLength: 60 });

describe('decideNext over DAGs, lived through', () => {
  it('starts only steps whose dependencies succeeded, at most maxParallel at once, each succeeding once', () => {
    fc.assert(
      fc.property(
        dag,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        script,
        (d, maxParallel, maxAttempts, s) => {
          live(d, maxParallel, maxAttempts, s);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a run whose attempts succeed (with crashes between) ends succeeded, every step succeeded exactly once', () => {
    const onlyGood = fc.array(fc.tuple(fc.constantFrom<Happening>('succeed', 'succeed', 'succeed', 'crash'), fc.nat(20)), {
      minLength: 200,
      maxLength: 200,
    });
    fc.assert(
      fc.property(dag, fc.integer({ min: 1, max: 4 }), onlyGood, (d, maxParallel, s) => {
        const { journal, state, ended } = live(d, maxParallel, 1, s);
        expect(ended).toBe(true);
        expect(state.status).toBe('success');
        const successes = journal.flatMap((e) => (e.type === 'step.succeeded' ? [e.stepName] : []));
        expect([...successes].sort()).toEqual([...d.steps].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('independent steps start together, up to maxParallel, in list order', () => {
    const d: Dag = { steps: ['a', 'b', 'c', 'd'], deps: { a: [], b: [], c: [], d: ['a', 'b', 'c'] } };
    const { journal } = live(d, 2, 1, []);
    const starts = journal.flatMap((e) => (e.type === 'step.started' ? [e.stepName] : []));
    expect(starts).toEqual(['a', 'b']);
  });

  it('a failed branch lets the others in flight finish, starts nothing new, then fails the run', () => {
    const d: Dag = { steps: ['a', 'b', 'c', 'after'], deps: { a: [], b: [], c: [], after: ['a', 'b', 'c'] } };
    // a fails for good while b and c run; c is not started (maxParallel 2); b ends, then the run fails.
    const { journal, state } = live(d, 2, 1, [
      ['failFatal', 0],
      ['succeed', 0],
    ]);
    expect(journal.map((e) => ('stepName' in e ? `${e.type} ${e.stepName}` : e.type))).toEqual([
      'run.created',
      'run.claimed',
      'step.started a',
      'step.started b',
      'step.failed a',
      'step.succeeded b',
      'run.failed',
    ]);
    expect(state.status).toBe('failed');
    expect(state.error).toBe('step "a" failed (not retryable): boom');
  });
});
