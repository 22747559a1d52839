import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { decideNext } from '../../src/decide/decideNext';
import type { Decision, Outcome } from '../../src/decide/decision';
import type { RunEvent } from '../../src/events/runEvents';
import { foldEvents } from '../../src/fold/evolve';
import type { RunState } from '../../src/fold/runState';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline } from '../../src/pipeline/types';
import { RUN_ID, claimed, created, deepFreeze, record, runCancelled } from '../support/eventBuilders';

/*
 * The executor's loop without I/O: whatever happens to a run (successes, failures, timeouts,
 * crashes and takeovers, stops, cancellation), the decider only ever proposes events the fold
 * accepts, never a second success for a step, and drives the run to an end.
 */

type Happening = 'succeed' | 'failRetryable' | 'failFatal' | 'timeout' | 'crash' | 'stop' | 'cancel';
const happening = fc.constantFrom<Happening>(
  'succeed',
  'succeed',
  'succeed',
  'failRetryable',
  'failFatal',
  'timeout',
  'crash',
  'stop',
  'cancel',
);

const pipelineOf = (steps: readonly string[], maxAttempts: number): Pipeline => ({
  ...definePipeline({
    name: 'etl',
    steps: steps.map((name) => ({ name, handler: () => ({ success: true as const }) })),
    retry: { maxAttempts, initialDelayMs: 500, backoffFactor: 3, jitter: 0.3 },
  }),
  definitionHash: 'def-1',
});

interface Lived {
  readonly journal: readonly RunEvent[];
  readonly state: RunState;
  readonly ended: boolean;
}

/** Lives the run: decide, append (fold), act on `next`, taking what happens from `script`. */
const live = (steps: readonly string[], maxAttempts: number, script: readonly Happening[], random: number): Lived => {
  const pipeline = pipelineOf(steps, maxAttempts);
  const journal: RunEvent[] = [];
  let state: RunState | null = null;
  let worker = 'w0';
  const decide = (o: Outcome): Decision => {
    const frozen = state === null ? null : deepFreeze(state);
    const d = decideNext(frozen, pipeline, o);
    // Pure: the same question gets the same answer.
    expect(decideNext(frozen, pipeline, o)).toEqual(d);
    if (E.isLeft(d)) throw new Error(`decideNext refused: ${JSON.stringify(d.left)}`);
    return d.right;
  };
  const append = (events: readonly RunEvent[]) => {
    const folded = foldEvents(state, record(RUN_ID, events, { firstSeq: journal.length + 1 }));
    if (E.isLeft(folded)) throw new Error(`illegal events ${JSON.stringify(events)}: ${JSON.stringify(folded.left)}`);
    journal.push(...events);
    state = folded.right;
  };
  const resume = () => {
    worker = `w${Number(worker.slice(1)) + 1}`;
    return decide({ kind: 'resume', worker, stopping: false, retryFailed: false, force: false, maxRecoveries: 3 });
  };
  let d = decide({ kind: 'claim', runId: RUN_ID, events: [created(steps), claimed(worker)], worker, stopping: false });
  for (let i = 0; ; i++) {
    append(d.events);
    const s = state as unknown as RunState;
    const next = d.next;
    if (next.kind === 'finished') return { journal, state: s, ended: true };
    const what = script[i];
    if (what === undefined) return { journal, state: s, ended: false };
    const tick = (now: string) => decide({ kind: 'tick', now, worker, stopping: false });
    switch (next.kind) {
      case 'released':
        d = resume();
        break;
      case 'run': {
        // A linear run starts at most one step at a time.
        expect(next.starts.length).toBeLessThanOrEqual(1);
        const first = next.starts[0];
        if (next.decideAgain) {
          d = tick(s.lastEventAt);
          break;
        }
        if (first === undefined) {
          if (next.wakeAt === null) throw new Error('nothing to run, nothing to wait for');
          d = tick(next.wakeAt);
          break;
        }
        const at = { kind: 'attempt' as const, stepName: first.stepName, attempt: first.attempt, random, worker };
        const error = { name: 'Error', message: 'boom' };
        if (what === 'crash') d = resume();
        else if (what === 'cancel') {
          append([runCancelled()]);
          d = tick(s.lastEventAt);
        } else if (what === 'stop') d = decide({ ...at, result: { kind: 'succeeded', result: null }, stopping: true });
        else if (what === 'succeed') d = decide({ ...at, result: { kind: 'succeeded', result: i }, stopping: false });
        else if (what === 'timeout') d = decide({ ...at, result: { kind: 'timedOut', afterMs: 10 }, stopping: false });
        else d = decide({ ...at, result: { kind: 'failed', error, retryable: what === 'failRetryable' }, stopping: false });
        break;
      }
    }
  }
};

const stepNames = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 5 });

describe('decideNext, lived through', () => {
  it('only proposes legal events, never a second success for a step, and steps start in order', () => {
    fc.assert(
      fc.property(
        stepNames,
        fc.integer({ min: 1, max: 4 }),
        fc.array(happening, { maxLength: 40 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (steps, maxAttempts, script, random) => {
          const { journal } = live(steps, maxAttempts, script, random);
          const successes = journal.flatMap((e) => (e.type === 'step.succeeded' ? [e.stepName] : []));
          expect(new Set(successes).size).toBe(successes.length);
          const firstStarts = [...new Set(journal.flatMap((e) => (e.type === 'step.started' ? [e.stepName] : [])))];
          expect(firstStarts).toEqual(steps.slice(0, firstStarts.length));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a run whose steps keep succeeding ends succeeded, each step run exactly once', () => {
    fc.assert(
      fc.property(stepNames, (steps) => {
        const { journal, state, ended } = live(
          steps,
          1,
          steps.map(() => 'succeed'),
          0.5,
        );
        expect(ended).toBe(true);
        expect(state.status).toBe('success');
        expect(journal.filter((e) => e.type === 'step.started').length).toBe(steps.length);
      }),
    );
  });

  it('whatever happens, a run given enough successes afterwards ends (succeeded, failed or cancelled)', () => {
    fc.assert(
      fc.property(
        stepNames,
        fc.integer({ min: 1, max: 4 }),
        fc.array(happening, { maxLength: 20 }),
        (steps, maxAttempts, script) => {
          const { state, ended } = live(steps, maxAttempts, [...script, ...Array<Happening>(40).fill('succeed')], 0.5);
          expect(ended).toBe(true);
          expect(['success', 'failed', 'cancelled']).toContain(state.status);
        },
      ),
      { numRuns: 200 },
    );
  });
});
