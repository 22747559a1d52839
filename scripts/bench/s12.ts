import * as E from 'fp-ts/Either';
import type { RecordedEvent } from '../../src/events/runEvents';
import { foldEvents } from '../../src/fold/evolve';
import { RunFold } from '../../src/fold/runFold';
import type { RunState } from '../../src/fold/runState';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { nowMs } from './stats';

/** The journal of one run of `steps` sequential steps, each started and succeeded (2 × steps + 3 events). */
const journalOf = (steps: number): RecordedEvent[] => {
  const names = Array.from({ length: steps }, (_, i) => `s${i}`);
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const out: RecordedEvent[] = [];
  const add = (event: RecordedEvent['event']) => {
    const seq = out.length + 1;
    out.push({ runId: 'r1', seq, occurredAt: new Date(t0 + seq).toISOString(), writer: 'w', eventId: `e${seq}`, event });
  };
  add({ type: 'run.created', payload: { pipelineId: 'p', steps: names, definitionHash: 'h', metadata: null, triggeredBy: 't' } });
  add({ type: 'run.claimed', payload: { worker: 'w1' } });
  for (const n of names) {
    add({ type: 'step.started', stepName: n, attempt: 1, payload: {} });
    add({ type: 'step.succeeded', stepName: n, attempt: 1, payload: { result: { n } } });
  }
  add({ type: 'run.succeeded', payload: {} });
  return out;
};

const time = (fold: () => RunState | null): { ms: number; state: RunState | null } => {
  const t = nowMs();
  const state = fold();
  return { ms: nowMs() - t, state };
};

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`S12: the fold refused the journal: ${JSON.stringify(e.left)}`);
  return e.right;
};

/**
 * S12, folding a long run: the journal of one run of 50,000 sequential steps (100,003 events)
 * folded one event at a time (an audit, an export's verification) with `foldEvents(state, [e])`
 * per event (what they did before 2026-12-08: the step list copied per event) and with a RunFold
 * (one private draft); in pages of 2,000 events (loading a run); and in one call.
 */
export const runS12 = (ctx: BenchContext): Promise<ScenarioResult> => {
  const steps = ctx.size(50_000, 5_000);
  const journal = journalOf(steps);
  const perEventFoldEvents = time(() => {
    let s: RunState | null = null;
    for (const r of journal) s = right(foldEvents(s, [r]));
    return s;
  });
  const perEventRunFold = time(() => {
    const f = new RunFold();
    for (const r of journal) right(f.push(r));
    return f.state();
  });
  const pages = time(() => {
    let s: RunState | null = null;
    for (let i = 0; i < journal.length; i += 2000) s = right(foldEvents(s, journal.slice(i, i + 2000)));
    return s;
  });
  const once = time(() => right(foldEvents(null, journal)));
  const same = [perEventRunFold, pages, once].every((x) => JSON.stringify(x.state) === JSON.stringify(perEventFoldEvents.state));
  ctx.log(
    `S12: ${steps} steps, ${journal.length} events: one at a time ${perEventFoldEvents.ms.toFixed(0)} ms (foldEvents per event), ` +
      `${perEventRunFold.ms.toFixed(0)} ms (RunFold); pages of 2,000 ${pages.ms.toFixed(0)} ms; one call ${once.ms.toFixed(0)} ms`,
  );
  return Promise.resolve({
    id: 'S12',
    title: `fold of one run of ${steps} steps (${journal.length} events), one event at a time`,
    figure: 'ms (RunFold; foldEvents per event before)',
    value: perEventRunFold.ms,
    ratio: null,
    goal: 'linear: about a one-call fold',
    met: perEventRunFold.ms < 3 * once.ms + 50,
    ...(same ? {} : { fail: 'the folds disagree' }),
    details: {
      steps,
      events: journal.length,
      fold_events_per_event_ms: perEventFoldEvents.ms,
      run_fold_per_event_ms: perEventRunFold.ms,
      pages_of_2000_ms: pages.ms,
      one_call_ms: once.ms,
    },
  });
};
