import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import type { JsonValue } from '../../src/events/json';
import type { RecordedEvent, RunEvent } from '../../src/events/runEvents';
import { isDeepStrictEqual } from 'node:util';
import * as t from 'io-ts';
import { prevResultsOf } from '../../src/context/prevResults';
import { describeDecodeError } from '../../src/events/decodeErrors';
import { OrbitErrors, type EventDecodeError } from '../../src/errors';
import { foldChanges, foldEvents } from '../../src/fold/evolve';
import { RunFold } from '../../src/fold/runFold';
import { graphOf } from '../../src/fold/runGraph';
import type { RunState, StepState } from '../../src/fold/runState';
import { successLogOf } from '../../src/fold/successLog';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline, PrevResult, StepData } from '../../src/pipeline/types';
import {
  claimed,
  created,
  deepFreeze,
  failed,
  illegalOf,
  released,
  resumed,
  retryScheduled,
  runCancelled,
  runFailed,
  runSucceeded,
  started,
  stateOf,
  succeeded,
} from '../support/eventBuilders';

/*
 * An arbitrary of legal journals. A run is planned first (steps, how each attempt ends, where a
 * graceful release happens, where and how the run stops) and then written out as events with
 * seq 1..n and strictly increasing times, the way the journal would hold them.
 */

/** How one attempt of a step ends: it succeeds, fails and is retried, or its worker dies. */
type Attempt = { kind: 'succeed'; result: JsonValue } | { kind: 'retry'; delayMs: number } | { kind: 'crash' };

type Ending = 'none' | 'succeeded' | 'failed' | 'cancelled' | 'stepFails' | 'stepFailsThenRetried';

interface RunPlan {
  readonly runId: string;
  readonly steps: readonly { name: string; attempts: Attempt[] }[];
  /** Insert a run.released + run.resumed pair after this many step segments (if any). */
  readonly releaseAfter: number | null;
  /** How much of the planned history happened, 0..1 of the segments. */
  readonly keep: number;
  readonly ending: Ending;
  readonly startMs: number;
  readonly gapsMs: readonly number[];
}

const attemptArb: fc.Arbitrary<Attempt[]> = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('retry' as const), delayMs: fc.integer({ min: 0, max: 3_600_000 }) }),
        fc.constant({ kind: 'crash' as const }),
      ),
      { maxLength: 3 },
    ),
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
  )
  .map(([before, result]) => [...before, { kind: 'succeed' as const, result }]);

const runPlanArb: fc.Arbitrary<RunPlan> = fc.record({
  runId: fc.stringMatching(/^run-[a-z0-9]{1,8}$/),
  steps: fc
    .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/), { minLength: 1, maxLength: 6 })
    .chain((names) =>
      fc.tuple(...names.map(() => attemptArb)).map((attempts) => names.map((name, i) => ({ name, attempts: attempts[i]! }))),
    ),
  releaseAfter: fc.option(fc.nat(6), { nil: null }),
  // The whole history a third of the time (so runs can succeed), otherwise a uniform cut.
  keep: fc.oneof(
    fc.constant(1),
    fc.noBias(fc.integer({ min: 0, max: 1000 })).map((k) => k / 1000),
    fc.noBias(fc.integer({ min: 0, max: 1000 })).map((k) => k / 1000),
  ),
  ending: fc.oneof(
    { arbitrary: fc.constant<Ending>('succeeded'), weight: 3 },
    { arbitrary: fc.constantFrom<Ending>('none', 'failed', 'cancelled', 'stepFails', 'stepFailsThenRetried'), weight: 5 },
  ),
  startMs: fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }),
  gapsMs: fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 1, maxLength: 20 }),
});

/** A legal journal with the facts the properties need, computed from the plan, not from the fold. */
interface LegalRun {
  readonly plan: RunPlan;
  readonly events: RecordedEvent[];
  /** Whether a terminal event (run.succeeded / run.failed / run.cancelled) ends the journal. */
  readonly endedBy: 'run.succeeded' | 'run.failed' | 'run.cancelled' | null;
}

const stamp = (plan: RunPlan, events: readonly RunEvent[]): RecordedEvent[] => {
  let t = plan.startMs;
  return events.map((event, i) => {
    if (i > 0) t += plan.gapsMs[i % plan.gapsMs.length]!;
    return {
      runId: plan.runId,
      seq: i + 1,
      occurredAt: new Date(t).toISOString(),
      writer: 'prop',
      eventId: `${plan.runId}-${i + 1}`,
      event,
    };
  });
};

const writeOut = (plan: RunPlan): LegalRun => {
  const names = plan.steps.map((s) => s.name);
  const segments: RunEvent[][] = [[created(names)], [claimed('w1')]];
  const stepSegments: { step: number; events: RunEvent[] }[] = [];
  plan.steps.forEach((step, i) => {
    step.attempts.forEach((a, j) => {
      const n = j + 1;
      if (a.kind === 'succeed')
        stepSegments.push({ step: i, events: [started(step.name, n), succeeded(step.name, n, a.result)] });
      if (a.kind === 'retry') {
        stepSegments.push({
          step: i,
          events: [started(step.name, n), failed(step.name, n, { retryable: true }), retryScheduled(step.name, n, a.delayMs)],
        });
      }
      if (a.kind === 'crash')
        stepSegments.push({
          step: i,
          events: [started(step.name, n), resumed({ by: `w${n + 1}`, fromStep: step.name, inFlight: [step.name] })],
        });
    });
  });
  // Whole steps are segments of their own for the release point; attempts inside stay in order.
  let stepsDone = 0;
  for (let k = 0; k < stepSegments.length; k++) {
    const seg = stepSegments[k]!;
    segments.push(seg.events);
    const next = stepSegments[k + 1];
    if (next === undefined || next.step !== seg.step) {
      stepsDone += 1;
      if (plan.releaseAfter === stepsDone) segments.push([released('w1'), resumed({ by: 'w9', reason: 'released' })]);
    }
  }

  const kept = Math.max(1, Math.round(plan.keep * segments.length));
  const body = segments.slice(0, kept).flat();
  const allDone = kept === segments.length;
  const running = kept >= 2;

  // What the plan says about the next step to run, for endings that fail it.
  const attemptsStarted = new Map<string, number>();
  const done = new Set<string>();
  for (const e of body) {
    if (e.type === 'step.started') attemptsStarted.set(e.stepName, e.attempt);
    if (e.type === 'step.succeeded') done.add(e.stepName);
  }
  const nextStep = names.find((n) => !done.has(n));

  let ending: RunEvent[] = [];
  let endedBy: LegalRun['endedBy'] = null;
  switch (plan.ending) {
    case 'succeeded':
      if (allDone) [ending, endedBy] = [[runSucceeded()], 'run.succeeded'];
      break;
    case 'cancelled':
      [ending, endedBy] = [[runCancelled('operator')], 'run.cancelled'];
      break;
    case 'failed':
      if (running) [ending, endedBy] = [[runFailed('gave up')], 'run.failed'];
      break;
    case 'stepFails':
    case 'stepFailsThenRetried':
      if (running && nextStep !== undefined) {
        const n = (attemptsStarted.get(nextStep) ?? 0) + 1;
        ending = [started(nextStep, n), failed(nextStep, n, { retryable: false }), runFailed(`${nextStep} failed`, nextStep)];
        endedBy = 'run.failed';
        if (plan.ending === 'stepFailsThenRetried') {
          ending.push(resumed({ retryFailed: true, by: 'operator' }));
          endedBy = null;
        }
      }
      break;
    case 'none':
      break;
  }
  return { plan, events: stamp(plan, [...body, ...ending]), endedBy };
};

const legalRunArb: fc.Arbitrary<LegalRun> = runPlanArb.map(writeOut);

const foldAll = (events: readonly RecordedEvent[]) => foldEvents(null, events);

/** An event re-stamped to follow `prev` directly (next seq, a later time). */
const following = (prev: RecordedEvent, event: RunEvent, seqOffset = 1): RecordedEvent => ({
  runId: prev.runId,
  seq: prev.seq + seqOffset,
  occurredAt: new Date(Date.parse(prev.occurredAt) + 1000).toISOString(),
  writer: 'prop',
  eventId: `${prev.eventId}-next`,
  event,
});

/** Per-step facts of a journal prefix, from the events themselves (independent of the fold). */
const stepFacts = (events: readonly RecordedEvent[]) => {
  const last = new Map<string, RunEvent>();
  const startedCount = new Map<string, number>();
  for (const r of events) {
    const e = r.event;
    if ('stepName' in e) last.set(e.stepName, e);
    if (e.type === 'step.started') startedCount.set(e.stepName, e.attempt);
  }
  const runningAttempt = (name: string): number | null => {
    const e = last.get(name);
    return e?.type === 'step.started' ? e.attempt : null;
  };
  const hasSucceeded = (name: string): boolean =>
    events.some((r) => r.event.type === 'step.succeeded' && r.event.stepName === name);
  return { startedCount: (n: string) => startedCount.get(n) ?? 0, runningAttempt, hasSucceeded };
};

/** Indices i such that events[0..i) leaves the run running (claimed, not ended). */
const runningPrefixes = (run: LegalRun): number[] => {
  const out: number[] = [];
  for (let i = 2; i <= run.events.length; i++) {
    const e = run.events[i - 1]!.event;
    if (e.type === 'run.succeeded' || e.type === 'run.failed' || e.type === 'run.cancelled') break;
    out.push(i);
  }
  return out;
};

const pick = <A>(xs: readonly A[], n: number): A => xs[n % xs.length]!;

const PARAMS = { numRuns: 200 };

describe('the fold of a legal journal', () => {
  it('the generator writes legal journals: every one folds to a state', () => {
    fc.assert(
      fc.property(legalRunArb, (run) => {
        expect(E.isRight(foldAll(run.events))).toBe(true);
      }),
      PARAMS,
    );
  });

  it('folding in one pass equals folding any split into two passes', () => {
    fc.assert(
      fc.property(legalRunArb, (run) => {
        const whole = foldAll(run.events);
        for (let i = 0; i <= run.events.length; i++) {
          const xs = run.events.slice(0, i);
          const ys = run.events.slice(i);
          const split = E.chain((s: Parameters<typeof foldEvents>[0]) => foldEvents(s, ys))(foldEvents(null, xs));
          expect(split).toEqual(whole);
        }
      }),
      PARAMS,
    );
  });

  it('never mutates the state it is given, nor the events', () => {
    fc.assert(
      fc.property(legalRunArb, fc.nat(), (run, n) => {
        const i = 1 + (n % run.events.length);
        const before = stateOf(foldAll(run.events.slice(0, i)));
        const copy = structuredClone(before);
        const rest = deepFreeze(run.events.slice(i));
        // Frozen: any write to the input (state, its steps, metadata, results) throws in strict mode.
        const after = foldEvents(deepFreeze(before), rest);
        expect(E.isRight(after)).toBe(true);
        expect(before).toEqual(copy);
      }),
      PARAMS,
    );
  });

  it('lastSeq counts the events, lastEventAt is the last one, and each succeeded step keeps the result its event carried', () => {
    fc.assert(
      fc.property(legalRunArb, (run) => {
        const state = stateOf(foldAll(run.events));
        expect(state.lastSeq).toBe(run.events.length);
        expect(state.lastEventAt).toBe(run.events[run.events.length - 1]!.occurredAt);
        const succeededEvents = run.events.flatMap((r) => (r.event.type === 'step.succeeded' ? [r.event] : []));
        for (const step of state.steps.filter((s) => s.status === 'success')) {
          const carried = succeededEvents.filter((e) => e.stepName === step.name);
          expect(carried).toHaveLength(1);
          expect(step.result).toEqual(carried[0]!.payload.result);
        }
        // and every succeeded event shows as a succeeded step
        for (const e of succeededEvents) expect(state.steps.find((s) => s.name === e.stepName)?.status).toBe('success');
      }),
      PARAMS,
    );
  });

  it('a run ends in the status its last terminal event says', () => {
    fc.assert(
      fc.property(legalRunArb, (run) => {
        const state = stateOf(foldAll(run.events));
        const expected = { 'run.succeeded': 'success', 'run.failed': 'failed', 'run.cancelled': 'cancelled' } as const;
        if (run.endedBy !== null) {
          expect(state.status).toBe(expected[run.endedBy]);
          expect(state.finishedAt).toBe(run.events[run.events.length - 1]!.occurredAt);
          expect(state.owner).toBeNull();
        } else {
          expect(['pending', 'running']).toContain(state.status);
          expect(state.finishedAt).toBeNull();
        }
      }),
      PARAMS,
    );
  });
});

describe('a RunFold, one event at a time', () => {
  it('hands out at every event the state foldEvents gives, and each state it handed out stays as it was', () => {
    fc.assert(
      fc.property(legalRunArb, (run) => {
        const fold = new RunFold();
        const handed: [number, RunState | null, unknown][] = [];
        run.events.forEach((r, i) => {
          expect(E.isRight(fold.push(r))).toBe(true);
          const s = fold.state();
          expect(s).toEqual(stateOf(foldAll(run.events.slice(0, i + 1))));
          handed.push([i, s, structuredClone(s)]);
        });
        // Later events copied the draft before changing it: nothing handed out changed.
        for (const [, s, copy] of handed) expect(s).toEqual(copy);
        const last = handed[handed.length - 1]?.[1];
        if (last) expect(successLogOf(last)).toEqual(successLogOf(stateOf(foldAll(run.events))));
      }),
      { numRuns: 100 },
    );
  });

  it('starts from a given state without changing it, and an illegal event changes nothing', () => {
    fc.assert(
      fc.property(legalRunArb, fc.nat(), fc.nat(), (run, n, m) => {
        const i = 1 + (n % run.events.length);
        const before = deepFreeze(stateOf(foldAll(run.events.slice(0, i))));
        const fold = new RunFold(before);
        for (const r of run.events.slice(i)) expect(E.isRight(fold.push(r))).toBe(true);
        expect(fold.state()).toEqual(stateOf(foldAll(run.events)));
        // Any event of the journal again is out of seq (or illegal): refused, the state stays.
        const again = pick(run.events, m);
        const at = fold.state();
        const copy = structuredClone(at);
        const refused = fold.push(again);
        expect(refused).toEqual(foldEvents(at, [again]));
        expect(E.isLeft(refused)).toBe(true);
        expect(fold.state()).toEqual(copy);
      }),
      PARAMS,
    );
  });

  it('folds a run of 50,000 steps one event at a time in linear time (foldEvents per event copied the steps per event: 15-65 s here)', () => {
    const names = Array.from({ length: 50_000 }, (_, i) => `s${i}`);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const events: RunEvent[] = [created(names), claimed()];
    for (const n of names) events.push(started(n), succeeded(n, 1, { n }));
    events.push(runSucceeded());
    const records = events.map((event, i) => ({
      runId: 'long',
      seq: i + 1,
      occurredAt: new Date(t0 + i).toISOString(),
      writer: 'w',
      eventId: `e${i}`,
      event,
    }));
    const fold = new RunFold();
    let refused = 0;
    const began = Date.now();
    records.forEach((r, i) => {
      if (E.isLeft(fold.push(r))) refused += 1;
      // An audit keeps the state as its verified prefix ends: a few hand-outs cost a copy each.
      if (i % 10_000 === 0) fold.state();
    });
    const ms = Date.now() - began;
    expect(refused).toBe(0);
    expect(fold.state()?.status).toBe('success');
    // About 0.2 s on an idle machine; the quadratic fold took 15 s or more.
    expect(ms).toBeLessThan(8_000);
  });
});

describe('the fold of an illegal journal', () => {
  const expectIllegalAt = (events: readonly RecordedEvent[], at: RecordedEvent) => {
    expect(illegalOf(foldAll(events))).toMatchObject({
      _tag: 'IllegalTransition',
      runId: at.runId,
      seq: at.seq,
      type: at.event.type,
    });
  };

  it('a step cannot succeed twice, however much later the second success comes', () => {
    fc.assert(
      fc.property(legalRunArb, fc.nat(), fc.nat(), (run, n, m) => {
        const prefixes = runningPrefixes(run);
        const successes = run.events.flatMap((r, i) =>
          r.event.type === 'step.succeeded' && prefixes.includes(i + 1) ? [i] : [],
        );
        fc.pre(successes.length > 0);
        const first = pick(successes, n);
        const upTo = pick(
          prefixes.filter((p) => p > first),
          m,
        );
        const prefix = run.events.slice(0, upTo);
        const again = following(prefix[prefix.length - 1]!, run.events[first]!.event);
        expectIllegalAt([...prefix, again], again);
      }),
      PARAMS,
    );
  });

  it('no event may follow run.succeeded or run.cancelled', () => {
    const anyEvent = (name: string): RunEvent[] => [
      claimed('w2'),
      released(),
      resumed(),
      resumed({ retryFailed: true }),
      started(name, 1),
      succeeded(name, 1),
      failed(name, 1),
      runSucceeded(),
      runFailed(),
      runCancelled(),
    ];
    fc.assert(
      fc.property(legalRunArb, fc.nat(), (run, n) => {
        fc.pre(run.endedBy === 'run.succeeded' || run.endedBy === 'run.cancelled');
        const last = run.events[run.events.length - 1]!;
        const extra = following(last, pick(anyEvent(run.plan.steps[0]!.name), n));
        expectIllegalAt([...run.events, extra], extra);
      }),
      PARAMS,
    );
  });

  it('a gap or a repeat in seq is reported at the first event out of order', () => {
    fc.assert(
      fc.property(
        legalRunArb,
        fc.nat(),
        fc.integer({ min: -1, max: 5 }).filter((d) => d !== 0),
        (run, n, shift) => {
          fc.pre(run.events.length >= 2);
          const i = 1 + (n % (run.events.length - 1));
          const shifted = run.events.map((r, k) => (k >= i ? { ...r, seq: r.seq + shift } : r));
          expectIllegalAt(shifted, shifted[i]!);
        },
      ),
      PARAMS,
    );
  });

  it('a step cannot start before the previous step succeeded', () => {
    fc.assert(
      fc.property(legalRunArb, fc.nat(), fc.nat(), (run, n, m) => {
        const prefixes = runningPrefixes(run);
        fc.pre(prefixes.length > 0);
        const upTo = pick(prefixes, n);
        const prefix = run.events.slice(0, upTo);
        const facts = stepFacts(prefix);
        const names = run.plan.steps.map((s) => s.name);
        const firstOpen = names.findIndex((name) => !facts.hasSucceeded(name));
        fc.pre(firstOpen >= 0 && firstOpen < names.length - 1);
        const later = pick(names.slice(firstOpen + 1), m);
        const early = following(prefix[prefix.length - 1]!, started(later, facts.startedCount(later) + 1));
        expectIllegalAt([...prefix, early], early);
      }),
      PARAMS,
    );
  });

  it('a step.succeeded for an attempt that is not running is refused', () => {
    fc.assert(
      fc.property(legalRunArb, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 6 }), (run, n, m, attempt) => {
        const prefixes = runningPrefixes(run);
        fc.pre(prefixes.length > 0);
        const upTo = pick(prefixes, n);
        const prefix = run.events.slice(0, upTo);
        const facts = stepFacts(prefix);
        const name = pick(
          run.plan.steps.map((s) => s.name),
          m,
        );
        fc.pre(facts.runningAttempt(name) !== attempt);
        const bogus = following(prefix[prefix.length - 1]!, succeeded(name, attempt));
        expectIllegalAt([...prefix, bogus], bogus);
      }),
      PARAMS,
    );
  });

  it('a journal must begin with run.created', () => {
    fc.assert(
      fc.property(legalRunArb, fc.nat(), (run, n) => {
        fc.pre(run.events.length >= 2);
        // Drop everything before some later event: the journal now starts with that event.
        const from = 1 + (n % (run.events.length - 1));
        const headless = run.events.slice(from).map((r, k) => ({ ...r, seq: k + 1 }));
        expectIllegalAt(headless, headless[0]!);
      }),
      PARAMS,
    );
  });
});

/*
 * What the executor keeps incrementally, so that a step of a long run costs the same as the first
 * (issue 20 item 19), against a recomputation from the whole state: the steps an append changed
 * (the fold names them; the reference compares every step), the succeeded steps (the fold keeps
 * a list; the reference scans), and the step context's prevResults (a lazy view, checked against
 * the codecs one new step at a time; the reference builds and checks the whole object).
 */

/** Every step compared: what `changed` must be. */
const changedByDiff = (before: RunState | null, after: RunState): number[] =>
  after.steps.flatMap((s, i) => {
    const fresh =
      s.status === 'pending' && s.attemptCount === 0 && s.startedAt === null && s.finishedAt === null && s.result === null;
    return (before === null ? !fresh : before.steps[i] !== s) ? [i] : [];
  });

/** A codec that refuses strings: results that are strings do not decode (as after a change of `output`). */
const NotAString = new t.Type<unknown, unknown, unknown>(
  'NotAString',
  (u): u is unknown => typeof u !== 'string',
  (u, c) => (typeof u === 'string' ? t.failure(u, c) : t.success(u)),
  (a) => a,
);

/** The pipeline of a run's steps; steps at `coded` positions have the string-refusing codec. */
const pipelineFor = (names: readonly string[], coded: (i: number) => boolean, dependsOn?: Record<string, string[]>): Pipeline =>
  definePipeline({
    name: 'etl',
    steps: names.map((name, i) => ({
      name,
      handler: () => ({ success: true }),
      ...(coded(i) ? { output: NotAString } : {}),
      ...(dependsOn !== undefined ? { dependsOn: dependsOn[name] ?? [] } : {}),
    })),
  });

/** prevResults as it was built before it became a view: every visible succeeded step, decoded, into a plain object. */
const prevResultsByScan = (
  state: RunState,
  pipeline: Pipeline,
  stepName?: string,
): E.Either<EventDecodeError, Record<string, PrevResult>> => {
  const g = graphOf(state);
  const at = stepName === undefined ? undefined : g.index.get(stepName);
  const ancestors = new Set<number>();
  if (!g.linear && at !== undefined) {
    const stack = [...g.deps[at]!];
    while (stack.length > 0) {
      const j = stack.pop()!;
      if (!ancestors.has(j)) stack.push(...g.deps[j]!);
      ancestors.add(j);
    }
  }
  const visible: StepState[] =
    g.linear || at === undefined ? [...state.steps] : [...ancestors].sort((a, b) => a - b).map((j) => state.steps[j]!);
  const out: Record<string, PrevResult> = {};
  for (const step of visible) {
    if (step.status !== 'success') continue;
    const codec = pipeline.steps.find((d) => d.name === step.name)?.output;
    let data: unknown = step.result ?? undefined;
    if (codec !== undefined && data !== undefined) {
      const d = codec.decode(data);
      if (E.isLeft(d))
        return E.left(
          OrbitErrors.eventDecodeError(
            state.runId,
            step.resultSeq ?? state.lastSeq,
            'step.succeeded',
            `payload.result (${step.name})`,
            describeDecodeError(d.left),
          ),
        );
      data = d.right;
    }
    out[step.name] = data === undefined ? { success: true } : { success: true, data: data as StepData };
  }
  return E.right(out);
};

/**
 * Where the view and the recomputation disagree (null: nowhere): the same error, or the same keys
 * in the same order, the same values, `in`, own-ness and JSON. Checked without `expect` in the
 * loop (thousands of states per property).
 */
const contextDifference = (
  state: RunState,
  pipeline: Pipeline,
  stepName: string | undefined,
  probes: readonly string[],
): string | null => {
  const view = prevResultsOf(state, pipeline, stepName);
  const scan = prevResultsByScan(state, pipeline, stepName);
  const at = `${stepName ?? '(none)'} at seq ${state.lastSeq}`;
  if (E.isLeft(scan) || E.isLeft(view)) return isDeepStrictEqual(view, scan) ? null : `${at}: ${JSON.stringify([view, scan])}`;
  const v = view.right;
  const w = scan.right;
  if (!isDeepStrictEqual(Object.keys(v), Object.keys(w)))
    return `${at}: keys ${Object.keys(v).join()} vs ${Object.keys(w).join()}`;
  if (!isDeepStrictEqual(Object.fromEntries(Object.entries(v)), w)) return `${at}: entries`;
  if (!isDeepStrictEqual({ ...v }, w)) return `${at}: spread`;
  if (JSON.stringify(v) !== JSON.stringify(w)) return `${at}: JSON`;
  for (const name of probes) {
    if (!isDeepStrictEqual(v[name], w[name])) return `${at}: [${name}]`;
    if (name in v !== name in w) return `${at}: ${name} in`;
    if (Object.prototype.hasOwnProperty.call(v, name) !== Object.prototype.hasOwnProperty.call(w, name))
      return `${at}: own ${name}`;
  }
  return null;
};

/** A random DAG over n steps (each depends on some earlier ones) and an order in which its steps can succeed. */
const dagRunArb = fc
  .integer({ min: 1, max: 7 })
  .chain((n) =>
    fc.record({
      deps: fc.tuple(...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => j)))),
      picks: fc.array(fc.nat(), { minLength: n, maxLength: n }),
      results: fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null)), { minLength: n, maxLength: n }),
      coded: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      keep: fc.integer({ min: 0, max: n }),
    }),
  )
  .map(({ deps, picks, results, coded, keep }) => {
    const names = deps.map((_, i) => `s${i}`);
    const dependsOn = Object.fromEntries(names.map((name, i) => [name, deps[i]!.map((j) => names[j]!)]));
    const done = new Set<number>();
    const order: number[] = [];
    for (let k = 0; k < names.length; k++) {
      const ready = names.flatMap((_, i) => (!done.has(i) && deps[i]!.every((j) => done.has(j)) ? [i] : []));
      const i = ready[picks[k]! % ready.length]!;
      done.add(i);
      order.push(i);
    }
    const body: RunEvent[] = [
      { ...created(names), payload: { ...(created(names).payload as object), dependsOn } } as RunEvent,
      claimed('w1'),
      ...order.slice(0, keep).flatMap((i) => [started(names[i]!), succeeded(names[i]!, 1, results[i] as JsonValue)]),
    ];
    // The next step started too: its context is what the executor builds.
    if (keep < order.length) body.push(started(names[order[keep]!]!));
    const events: RecordedEvent[] = body.map((event, i) => ({
      runId: 'run-dag',
      seq: i + 1,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      writer: 'prop',
      eventId: `e${i + 1}`,
      event,
    }));
    return { names, dependsOn, coded, events };
  });

describe('what the executor keeps incrementally agrees with a recomputation', () => {
  it('the steps an append changed, as the fold names them, are the steps that differ', () => {
    fc.assert(
      fc.property(legalRunArb, fc.integer({ min: 1, max: 4 }), (run, size) => {
        // Appends of 1..size events, as the executor writes them, each folded onto the last state.
        let state: RunState | null = null;
        for (let i = 0; i < run.events.length; i += size) {
          const r = foldChanges(state, run.events.slice(i, i + size));
          expect(E.isRight(r)).toBe(true);
          if (E.isLeft(r)) return;
          const after = r.right.state as RunState;
          expect(r.right.changed).toEqual(changedByDiff(state, after));
          state = after;
        }
      }),
      PARAMS,
    );
  });

  it('the succeeded steps the fold keeps are those of the state, also for a state it did not make', () => {
    fc.assert(
      fc.property(legalRunArb, (run) => {
        let state: RunState | null = null;
        for (const r of run.events) {
          state = stateOf(foldEvents(state, [r]));
          const kept: number[] = [];
          for (let n = successLogOf(state); n !== null; n = n.prev) kept.push(n.index);
          const succeededNow = state.steps.flatMap((s, i) => (s.status === 'success' ? [i] : []));
          expect([...kept].sort((a, b) => a - b)).toEqual(succeededNow);
          const foreign: number[] = [];
          for (let n = successLogOf(structuredClone(state)); n !== null; n = n.prev) foreign.push(n.index);
          expect(foreign.sort((a, b) => a - b)).toEqual(succeededNow);
        }
      }),
      PARAMS,
    );
  });

  it('prevResults, a view checked one new step at a time, equals the whole object built and checked at each step', () => {
    fc.assert(
      fc.property(legalRunArb, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), (run, coded) => {
        const names = run.plan.steps.map((s) => s.name);
        const pipeline = pipelineFor(names, (i) => coded[i]!);
        const probes = [...names, 'nope', 'toString'];
        const problems: string[] = [];
        let state: RunState | null = null;
        for (const r of run.events) {
          state = stateOf(foldEvents(state, [r]));
          for (const name of [undefined, ...names]) problems.push(contextDifference(state, pipeline, name, probes) ?? '');
        }
        // A state from elsewhere (another process, a replay) is checked in one go.
        if (state !== null)
          for (const name of [undefined, ...names])
            problems.push(contextDifference(structuredClone(state), pipeline, name, probes) ?? '');
        expect(problems.filter((p) => p !== '')).toEqual([]);
      }),
      PARAMS,
    );
  });

  it('in a DAG, prevResults holds the ancestors that succeeded, as the recomputation does', () => {
    fc.assert(
      fc.property(dagRunArb, ({ names, dependsOn, coded, events }) => {
        const pipeline = pipelineFor(names, (i) => coded[i]!, dependsOn);
        const problems: string[] = [];
        let state: RunState | null = null;
        for (const r of events) {
          state = stateOf(foldEvents(state, [r]));
          for (const name of [undefined, ...names])
            problems.push(contextDifference(state, pipeline, name, [...names, 'x']) ?? '');
        }
        expect(problems.filter((p) => p !== '')).toEqual([]);
      }),
      PARAMS,
    );
  });
});
