import * as E from 'fp-ts/Either';
import { assertNever, type IllegalTransition } from '../errors';
import type { ItemEvent, RecordedEvent } from '../events/runEvents';
import { graphOf, runGraphOf } from './runGraph';
import type { RunState, StepState } from './runState';
import { itemOf, newMapState, type ItemState, type MapState } from './mapState';
import { emptyVector, vectorSet } from './itemVector';
import { keepSuccessLog, successLogOf, type SuccessNode } from './successLog';

/**
 * The fold: `(state, event) -> state`, pure, no clock, no I/O. A run begins as `null` and its
 * first event must be `run.created`. Events that cannot follow the state (a step succeeding twice,
 * anything after the run ended, a gap in seq) are reported as IllegalTransition, never absorbed.
 */

/** Mutable during one fold call (or inside one RunFold) only; callers see immutable RunState. */
export type Draft = { -readonly [K in keyof RunState]: RunState[K] } & { steps: StepState[] };

/** `iso` plus `ms`, or null when that is not a representable time. */
export const addMs = (iso: string, ms: number): string | null => {
  const t = Date.parse(iso) + ms;
  return Number.isFinite(t) && Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : null;
};

/** Step positions by name, computed once per run's step list (replays fold thousands of events). */
const stepIndex = (d: Draft, name: string): number => graphOf(d).index.get(name) ?? -1;

/** `open` with `i` removed and every dependent of `i` whose dependencies have now all succeeded added. */
const openAfterSuccess = (d: Draft, i: number): number[] => {
  const g = graphOf(d);
  const open = d.open.filter((j) => j !== i);
  for (const j of g.dependents[i] as readonly number[]) {
    if ((g.deps[j] as readonly number[]).every((k) => d.steps[k]?.status === 'success')) {
      // Keep ascending order: the decider starts ready steps in list order.
      let at = open.length;
      while (at > 0 && (open[at - 1] as number) > j) at--;
      open.splice(at, 0, j);
    }
  }
  return open;
};

/** A run.resumed with retryFailed: every failed item is pending again (its attempts count on). */
const reopenFailedItems = (maps: Readonly<Record<string, MapState>>): Record<string, MapState> => {
  const out: Record<string, MapState> = {};
  for (const [name, m] of Object.entries(maps)) {
    let items = m.items;
    for (const i of m.open) {
      const it = itemOf(m, i);
      if (it?.status === 'failed') items = vectorSet(items, i, { ...it, status: 'pending', error: null, retryable: null });
    }
    out[name] = items === m.items ? m : { ...m, items };
  }
  return out;
};

const withoutItem = (open: readonly number[], i: number): number[] => open.filter((j) => j !== i);

/** One item event on a map step's items, or why it cannot follow them. */
const applyItem = (m: MapState, r: ItemEvent, at: string): MapState | string => {
  const i = r.payload.index;
  if (i >= m.count) return `the list has ${m.count} item(s)`;
  const it = itemOf(m, i);
  const set = (s: ItemState) => vectorSet(m.items, i, s);
  switch (r.type) {
    case 'item.started': {
      if (it === undefined) {
        // Items start in list order.
        if (i !== m.next) return `item ${m.next} starts first`;
        if (r.attempt !== 1) return `attempt ${r.attempt} follows attempt 0`;
        const open = [...m.open, i];
        const s: ItemState = { status: 'running', attempt: 1, result: null, error: null, retryable: null, nextRetryAt: null };
        return { ...m, next: i + 1, open, items: set(s) };
      }
      if (it.status === 'success') return 'already succeeded';
      if (r.attempt !== it.attempt + 1) return `attempt ${r.attempt} follows attempt ${it.attempt}`;
      return { ...m, items: set({ ...it, status: 'running', attempt: r.attempt, nextRetryAt: null }) };
    }
    case 'item.succeeded':
      if (it === undefined || it.status !== 'running' || r.attempt !== it.attempt) return `attempt ${r.attempt} is not running`;
      return {
        ...m,
        succeeded: m.succeeded + 1,
        open: withoutItem(m.open, i),
        items: set({ ...it, status: 'success', result: r.payload.result, error: null, retryable: null }),
      };
    case 'item.failed':
      if (it === undefined || it.status !== 'running' || r.attempt !== it.attempt) return `attempt ${r.attempt} is not running`;
      return { ...m, items: set({ ...it, status: 'failed', error: r.payload.error, retryable: r.payload.retryable }) };
    case 'item.retry_scheduled': {
      if (it === undefined || it.status !== 'failed' || it.retryable !== true || r.attempt !== it.attempt)
        return `attempt ${r.attempt} has no retryable failure to retry`;
      const due = addMs(at, r.payload.delayMs);
      if (due === null) return `retry delay ${r.payload.delayMs} ms is out of range`;
      return { ...m, items: set({ ...it, status: 'retrying', nextRetryAt: due }) };
    }
    default:
      return assertNever(r);
  }
};

/**
 * Applies one event to the draft in place; returns a reason when the event is illegal. Every check
 * comes before any change: an illegal event leaves the draft as it was (RunFold relies on it). Only
 * `steps` is changed in place; other fields are replaced.
 */
export const apply = (d: Draft | null, r: RecordedEvent): Draft | string => {
  const e = r.event;
  if (d === null) {
    if (e.type !== 'run.created') return `a run must begin with run.created, not ${e.type}`;
    if (r.seq !== 1) return `run.created must have seq 1, not ${r.seq}`;
    const names = e.payload.steps;
    if (names.length === 0) return 'a run needs at least one step';
    if (new Set(names).size !== names.length) return 'step names must be unique';
    const dependsOn = e.payload.dependsOn ?? null;
    const graph = runGraphOf(names, dependsOn);
    if (typeof graph === 'string') return graph;
    const forkedFrom = e.payload.forkedFrom;
    if (forkedFrom !== undefined && !graph.index.has(forkedFrom.step))
      return `forked from step ${forkedFrom.step}, which is not a step of the run`;
    return {
      ...(forkedFrom !== undefined ? { forkedFrom } : {}),
      runId: r.runId,
      pipelineId: e.payload.pipelineId,
      status: 'pending',
      triggeredBy: e.payload.triggeredBy,
      metadata: e.payload.metadata,
      definitionHash: e.payload.definitionHash,
      stepNames: names,
      dependsOn,
      open: graph.deps.flatMap((ds, i) => (ds.length === 0 ? [i] : [])),
      startedAt: r.occurredAt,
      finishedAt: null,
      owner: null,
      error: null,
      recoveryCount: 0,
      lastSeq: 1,
      lastEventAt: r.occurredAt,
      steps: names.map((name, index) => ({
        name,
        index,
        status: 'pending',
        startedAt: null,
        finishedAt: null,
        attemptCount: 0,
        error: null,
        retryable: null,
        result: null,
        resultSeq: null,
        nextRetryAt: null,
      })),
    };
  }

  if (r.runId !== d.runId) return `event belongs to run ${r.runId}, not ${d.runId}`;
  if (r.seq !== d.lastSeq + 1) return `expected seq ${d.lastSeq + 1}, got ${r.seq}`;
  if (d.status === 'success' || d.status === 'cancelled') return `run already ended (${d.status})`;
  if (d.status === 'failed' && !(e.type === 'run.resumed' && e.payload.retryFailed)) {
    if (e.type === 'event.received') return 'run already ended (failed): an event can no longer be delivered';
    return 'run already ended (failed); only a run.resumed with retryFailed may follow';
  }

  const at = r.occurredAt;
  const finish = (status: 'success' | 'failed' | 'cancelled', error: string | null): Draft => {
    d.status = status;
    d.finishedAt = at;
    d.owner = null;
    d.error = error;
    return d;
  };

  switch (e.type) {
    case 'run.created':
      return 'run already created';
    case 'run.claimed':
      if (d.status !== 'pending') return `only a pending run can be claimed (run is ${d.status})`;
      d.status = 'running';
      d.owner = e.payload.worker;
      return d;
    case 'run.released':
      if (d.status !== 'running') return `only a running run can be released (run is ${d.status})`;
      d.owner = null;
      return d;
    case 'run.resumed':
      d.status = 'running';
      d.finishedAt = null;
      d.error = null;
      // A released run was handed back on purpose; only a takeover from a silent holder counts
      // towards the poison-run cap, and a manual retry starts the count afresh.
      d.recoveryCount = e.payload.retryFailed ? 0 : d.owner !== null ? d.recoveryCount + 1 : d.recoveryCount;
      d.owner = e.payload.by;
      if (e.payload.retryFailed) {
        // A manual retry starts the failed steps afresh; their old errors stay in the journal.
        d.steps = d.steps.map((s) =>
          s.status === 'failed'
            ? { ...s, status: 'pending', finishedAt: null, error: null, retryable: null, nextRetryAt: null }
            : s,
        );
        if (d.maps !== undefined) d.maps = reopenFailedItems(d.maps);
      }
      return d;
    case 'run.suspended': {
      if (d.status !== 'running') return `only a running run can be suspended (run is ${d.status})`;
      const running = d.steps.find((s) => s.status === 'running');
      if (running !== undefined) return `step ${running.name} is running`;
      const asleep = d.open.map((i) => d.steps[i] as StepState).filter((s) => s.status === 'sleeping' || s.status === 'waiting');
      if (asleep.length === 0) return 'no step sleeps or waits';
      d.status = asleep.some((s) => s.status === 'waiting') ? 'waiting' : 'sleeping';
      d.owner = null;
      return d;
    }
    case 'event.received': {
      const received = {
        event: e.payload.event,
        data: e.payload.data,
        by: e.payload.by,
        sender: e.payload.sender ?? null,
        seq: r.seq,
        at,
      };
      // The first step waiting for this event with none kept for it yet is due now. A suspended
      // run stays suspended (no holder, not interrupted, never released): it is woken as a sleep
      // that ended is, at its step's due time, which is the event's arrival.
      const taker = d.steps.find((s) => s.status === 'waiting' && s.waitingFor === e.payload.event && s.eventAt === undefined);
      // A new list: foldChanges then compares the steps (the event names none), and the append writes the row.
      if (taker !== undefined) d.steps = d.steps.map((s) => (s === taker ? { ...taker, eventAt: at } : s));
      d.inbox = [...(d.inbox ?? []), received];
      return d;
    }
    case 'event.rejected': {
      // Only the run's holder, deciding its wait step, turns an event away; the event must still wait in the inbox.
      if (d.status !== 'running' || d.owner === null)
        return `only a running run's holder can reject an event (run is ${d.status})`;
      const k = (d.inbox ?? []).findIndex((x) => x.seq === e.payload.seq && x.event === e.payload.event);
      if (k < 0) return `no ${JSON.stringify(e.payload.event)} event at seq ${e.payload.seq} waits in the run's inbox`;
      const step = d.steps.find((s) => s.name === e.payload.step);
      if (step?.status !== 'waiting' || step.waitingFor !== e.payload.event)
        return `step ${e.payload.step} does not wait for ${JSON.stringify(e.payload.event)}`;
      d.inbox = (d.inbox ?? []).filter((_, j) => j !== k);
      // No event of its name left for it: the step waits on, due at its timeout again.
      if (step.eventAt !== undefined && !d.inbox.some((x) => x.event === e.payload.event))
        d.steps = d.steps.map((s) => (s === step ? withoutEventAt(s) : s));
      return d;
    }
    case 'run.succeeded': {
      if (d.status !== 'running') return `only a running run can succeed (run is ${d.status})`;
      const unfinished = d.steps.find((s) => s.status !== 'success');
      if (unfinished) return `step ${unfinished.name} has not succeeded`;
      return finish('success', null);
    }
    case 'run.failed':
      return finish('failed', e.payload.reason);
    case 'run.cancelled':
      return finish('cancelled', e.payload.reason);
    case 'step.started':
    case 'step.succeeded':
    case 'step.failed':
    case 'step.retry_scheduled':
    case 'step.sleeping':
    case 'step.waiting': {
      if (d.status !== 'running') return `step events need a running run (run is ${d.status})`;
      if (d.owner === null) return 'step events need an owner: the run was released and not resumed';
      const i = stepIndex(d, e.stepName);
      const step = d.steps[i];
      if (step === undefined) return `unknown step ${e.stepName}`;
      switch (e.type) {
        case 'step.started': {
          if (step.status === 'success') return `step ${step.name} already succeeded`;
          const g = graphOf(d);
          const waiting = (g.deps[i] as readonly number[]).find((k) => d.steps[k]?.status !== 'success');
          if (waiting !== undefined) {
            // In a linear run steps succeed in order: name the first one that has not, as always.
            const before = g.linear
              ? (d.steps.find((s) => s.status !== 'success') as StepState)
              : (d.steps[waiting] as StepState);
            return `step ${step.name} cannot start before step ${before.name} succeeded`;
          }
          if (e.attempt !== step.attemptCount + 1)
            return `attempt ${e.attempt} of ${step.name} follows attempt ${step.attemptCount}`;
          const items = e.payload.items;
          if (items !== undefined) {
            // A map step: its items, kept from an earlier attempt of the same list (a retry of its
            // failed items), or fresh.
            const had = d.maps?.[step.name];
            if (had === undefined || had.count !== items) d.maps = { ...d.maps, [step.name]: newMapState(items) };
          }
          // Started over an attempt that never journaled its outcome (it died running): keep when
          // the first such attempt began. Any other start (a retry, the first attempt) drops it.
          const from = step.status === 'running' ? (step.restartedFrom ?? step.startedAt) : null;
          const next: StepState = {
            ...step,
            status: 'running',
            startedAt: at,
            finishedAt: null,
            attemptCount: e.attempt,
            nextRetryAt: null,
          };
          delete (next as { eventAt?: string }).eventAt;
          if (from !== null) d.steps[i] = { ...next, restartedFrom: from };
          else {
            delete (next as { restartedFrom?: string }).restartedFrom;
            d.steps[i] = next;
          }
          return d;
        }
        case 'step.succeeded': {
          if (!isUnderway(step) || e.attempt !== step.attemptCount) {
            return `step ${step.name} attempt ${e.attempt} is not running (step is ${step.status}, attempt ${step.attemptCount})`;
          }
          const m = d.maps?.[step.name];
          if (m !== undefined && m.succeeded !== m.count)
            return `map step ${step.name} has ${m.count - m.succeeded} item(s) not succeeded`;
          // A wait step takes the oldest event received for it (none: its timeout passed, and it goes on with its default).
          if (step.status === 'waiting') {
            const k = (d.inbox ?? []).findIndex((x) => x.event === step.waitingFor);
            if (k >= 0) d.inbox = (d.inbox ?? []).filter((_, j) => j !== k);
          }
          // The result now holds the list: keep the counts, let the items go.
          if (m !== undefined) d.maps = { ...d.maps, [step.name]: { ...m, open: [], items: emptyVector(0) } };
          d.steps[i] = {
            ...withoutEventAt(step),
            status: 'success',
            finishedAt: at,
            error: null,
            retryable: null,
            result: e.payload.result,
            resultSeq: r.seq,
            nextRetryAt: null,
          };
          d.open = openAfterSuccess(d, i);
          return d;
        }
        case 'step.failed':
          if (!isUnderway(step) || e.attempt !== step.attemptCount) {
            return `step ${step.name} attempt ${e.attempt} is not running (step is ${step.status}, attempt ${step.attemptCount})`;
          }
          d.steps[i] = {
            ...withoutEventAt(step),
            status: 'failed',
            finishedAt: at,
            error: e.payload.error,
            retryable: e.payload.retryable,
            nextRetryAt: null,
          };
          return d;
        case 'step.sleeping':
        case 'step.waiting': {
          if (step.status !== 'running' || e.attempt !== step.attemptCount) {
            return `step ${step.name} attempt ${e.attempt} is not running (step is ${step.status}, attempt ${step.attemptCount})`;
          }
          const until = e.type === 'step.sleeping' ? e.payload.until : e.payload.timeoutAt;
          if (until !== null && !Number.isFinite(Date.parse(until))) return `step ${step.name}: ${until} is not a time`;
          d.steps[i] =
            e.type === 'step.sleeping'
              ? { ...withoutEventAt(step), status: 'sleeping', nextRetryAt: until }
              : { ...withoutEventAt(step), status: 'waiting', nextRetryAt: until, waitingFor: e.payload.event };
          return d;
        }
        case 'step.retry_scheduled': {
          if (step.status !== 'failed' || step.retryable !== true || e.attempt !== step.attemptCount) {
            return `step ${step.name} attempt ${e.attempt} has no retryable failure to retry`;
          }
          const due = addMs(at, e.payload.delayMs);
          if (due === null) return `retry delay ${e.payload.delayMs} ms is out of range`;
          d.steps[i] = { ...step, status: 'retrying', nextRetryAt: due };
          return d;
        }
        default:
          return assertNever(e);
      }
    }
    case 'step.reused': {
      // Only a fork's creation reuses results: after run.created, before the run is first claimed.
      if (d.forkedFrom === undefined) return 'only a forked run reuses step results';
      if (d.status !== 'pending' || d.owner !== null || d.recoveryCount > 0)
        return `step results are reused only before the run is claimed (run is ${d.status})`;
      const i = stepIndex(d, e.stepName);
      const step = d.steps[i];
      if (step === undefined) return `unknown step ${e.stepName}`;
      if (step.name === d.forkedFrom.step) return `step ${step.name} is the step the run was forked from: it runs again`;
      if (step.status !== 'pending') return `step ${step.name} is ${step.status}, not pending`;
      if (e.attempt !== 1) return `a reused step has attempt 1, not ${e.attempt}`;
      const waiting = (graphOf(d).deps[i] as readonly number[]).find((k) => d.steps[k]?.status !== 'success');
      if (waiting !== undefined) return `step ${step.name} cannot be reused before step ${(d.steps[waiting] as StepState).name}`;
      d.steps[i] = {
        ...step,
        status: 'success',
        startedAt: at,
        finishedAt: at,
        attemptCount: 1,
        result: e.payload.result,
        resultSeq: r.seq,
      };
      d.open = openAfterSuccess(d, i);
      return d;
    }
    case 'item.started':
    case 'item.succeeded':
    case 'item.failed':
    case 'item.retry_scheduled': {
      if (d.status !== 'running') return `item events need a running run (run is ${d.status})`;
      if (d.owner === null) return 'item events need an owner: the run was released and not resumed';
      const step = d.steps[stepIndex(d, e.stepName)];
      if (step === undefined) return `unknown step ${e.stepName}`;
      const m = d.maps?.[step.name];
      if (step.status !== 'running' || m === undefined) return `step ${step.name} is not a running map step`;
      const next = applyItem(m, e, at);
      if (typeof next === 'string') return `step ${step.name} item ${e.payload.index}: ${next}`;
      d.maps = { ...d.maps, [step.name]: next };
      return d;
    }
    default:
      return assertNever(e);
  }
};

/** A step whose attempt has begun and not ended: running, or sleeping or waiting in it. */
/** The step without the arrival of an event for it (its wait ended, or the event was turned away). */
const withoutEventAt = (s: StepState): StepState => {
  if (s.eventAt === undefined) return s;
  const rest = { ...s };
  delete (rest as { eventAt?: string }).eventAt;
  return rest;
};

const isUnderway = (s: StepState): boolean => s.status === 'running' || s.status === 'sleeping' || s.status === 'waiting';

export const draftOf = (s: RunState | null): Draft | null => (s === null ? null : { ...s, steps: s.steps.slice() });

/** A step as `run.created` makes it (pending, never started). */
const isFresh = (s: StepState): boolean =>
  s.status === 'pending' &&
  s.attemptCount === 0 &&
  s.startedAt === null &&
  s.finishedAt === null &&
  s.error === null &&
  s.result === null &&
  s.nextRetryAt === null;

/** The fold of some events, and which steps they changed. */
export interface Folded {
  readonly state: RunState | null;
  /**
   * Positions (ascending) of the steps whose state the events changed: for a new run, those that
   * are no longer as `run.created` made them. What the append writes to `steps` rows.
   */
  readonly changed: readonly number[];
}

/**
 * Folds events onto a state and says which steps changed, without comparing every step: a step
 * changes only under an event that names it (`step.*`, whose position the graph gives), except
 * when an event replaces the whole list (a `retryFailed` resume), which is then compared in full.
 * The input state is never mutated.
 */
export const foldChanges = (state: RunState | null, events: Iterable<RecordedEvent>): E.Either<IllegalTransition, Folded> => {
  let d = draftOf(state);
  const draftSteps = d?.steps;
  let log: SuccessNode | null = state === null ? null : successLogOf(state);
  const named: number[] = [];
  for (const r of events) {
    const next = apply(d, r);
    if (typeof next === 'string') {
      return E.left({ _tag: 'IllegalTransition', runId: r.runId, seq: r.seq, type: r.event.type, reason: next });
    }
    next.lastSeq = r.seq;
    next.lastEventAt = r.occurredAt;
    d = next;
    const e = r.event;
    if ('stepName' in e) {
      const i = stepIndex(d, e.stepName);
      named.push(i);
      if (e.type === 'step.succeeded' || e.type === 'step.reused') log = { index: i, step: d.steps[i] as StepState, prev: log };
    }
  }
  if (d === null) return E.right({ state: null, changed: [] });
  keepSuccessLog(d, log);
  let changed: number[];
  if (state === null || d.steps !== draftSteps) {
    const before = state?.steps;
    changed = [];
    d.steps.forEach((s, i) => {
      if (before === undefined ? !isFresh(s) : before[i] !== s) changed.push(i);
    });
  } else {
    const before = state.steps;
    changed = [...new Set(named)].filter((i) => d.steps[i] !== before[i]).sort((a, b) => a - b);
  }
  return E.right({ state: d, changed });
};

/** Folds events onto a state. The input state is never mutated. */
export const foldEvents = (
  state: RunState | null,
  events: Iterable<RecordedEvent>,
): E.Either<IllegalTransition, RunState | null> => {
  const r = foldChanges(state, events);
  return E.isLeft(r) ? r : E.right(r.right.state);
};

/** One event: `evolve(state, event)`. */
export const evolve = (state: RunState | null, event: RecordedEvent): E.Either<IllegalTransition, RunState | null> =>
  foldEvents(state, [event]);
