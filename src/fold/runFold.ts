import * as E from 'fp-ts/Either';
import type { IllegalTransition } from '../errors';
import type { RecordedEvent } from '../events/runEvents';
import { apply, draftOf, type Draft } from './evolve';
import { graphOf } from './runGraph';
import type { RunState, StepState } from './runState';
import { keepSuccessLog, successLogOf, type SuccessNode } from './successLog';

/**
 * The fold of a journal read one event at a time (an audit that must say which event is illegal,
 * and keep the state before it): `foldEvents(state, [event])` per event copies the run's step list
 * per event, O(events × steps), minutes for a run of 50,000 steps. Here one draft, private to the
 * RunFold, takes every event in place; `state()` hands it out as an immutable RunState and the
 * next event copies it first, so each state handed out stays as it was. Same rules as foldEvents.
 */
export class RunFold {
  private draft: Draft | null;
  /** The draft has been handed out by `state()`: copy it before the next change. */
  private shared: boolean;
  private log: SuccessNode | null;

  constructor(state: RunState | null = null) {
    this.draft = state as Draft | null;
    this.shared = true;
    this.log = state === null ? null : successLogOf(state);
  }

  /** Folds one more event; an illegal one changes nothing (the fold stays at the state before it). */
  push(r: RecordedEvent): E.Either<IllegalTransition, void> {
    if (this.shared) {
      this.draft = draftOf(this.draft);
      this.shared = false;
    }
    const next = apply(this.draft, r);
    if (typeof next === 'string') {
      return E.left({ _tag: 'IllegalTransition', runId: r.runId, seq: r.seq, type: r.event.type, reason: next });
    }
    next.lastSeq = r.seq;
    next.lastEventAt = r.occurredAt;
    this.draft = next;
    const e = r.event;
    if ((e.type === 'step.succeeded' || e.type === 'step.reused') && 'stepName' in e) {
      const i = graphOf(next).index.get(e.stepName) ?? -1;
      this.log = { index: i, step: next.steps[i] as StepState, prev: this.log };
    }
    return E.right(undefined);
  }

  /** The state the events so far make (null before run.created); later pushes do not change it. */
  state(): RunState | null {
    if (this.draft !== null && !this.shared) keepSuccessLog(this.draft, this.log);
    this.shared = true;
    return this.draft;
  }
}
