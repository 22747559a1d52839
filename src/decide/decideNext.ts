import * as E from 'fp-ts/Either';
import { assertNever, OrbitErrors, type IllegalTransition, type ResumeRefusal } from '../errors';
import type { RunEvent, RunFailed } from '../events/runEvents';
import { toJsonValue } from '../events/json';
import { describeDecodeError } from '../events/decodeErrors';
import { foldEvents } from '../fold/evolve';
import { isFinished, type RunState, type StepState } from '../fold/runState';
import { PENDING_EPOCH } from '../journal/pendingTime';
import { stepDefinition } from '../pipeline/stepDefinition';
import type { Pipeline } from '../pipeline/types';
import { DEFAULT_MAP_CONCURRENCY, DEFAULT_MAX_PARALLEL } from '../pipeline/definePipeline';
import type { StepDefinition } from '../pipeline/types';
import { itemKey, itemOf, mapResults, stepOfKey, type MapState } from '../fold/mapState';
import { mapListOf } from './mapList';
import type { Decision, Next, Outcome, StepStart } from './decision';
import { attemptEvents, runFailedReason } from './attemptEvents';
import { resumeEvents } from './resumeEvents';

/**
 * The decider: given a run as journaled (`null` for a run not created yet), its pipeline and what
 * just happened, the events to append and what to do next. Pure: no clock, no I/O, no randomness
 * (time and jitter come in with the outcome). The executor, resume planning and `recover --dry-run`
 * all decide through it, so what a run does next is written once.
 */
export const decideNext = (
  state: RunState | null,
  pipeline: Pipeline,
  outcome: Outcome,
): E.Either<IllegalTransition | ResumeRefusal, Decision> => {
  switch (outcome.kind) {
    case 'claim':
      // Stopped before the claim of an existing run was written: leave the run as we found it.
      if (outcome.stopping && state !== null) return E.right({ events: [], next: { kind: 'released' } });
      return afterward(
        state,
        pipeline,
        outcome.events,
        {
          stopping: outcome.stopping,
          stopReason: outcome.stopReason,
          worker: outcome.worker,
          now: null,
          executing: outcome.executing ?? NONE,
        },
        outcome.runId,
      );
    case 'resume': {
      if (state === null) return E.left(notCreated('', 'run.resumed'));
      // Asked to stop before our claim was written: leave the run exactly as we found it (a
      // claim-and-release would count as a takeover towards the poison-run cap).
      if (outcome.stopping) return E.right({ events: [], next: { kind: 'released' } });
      const claim = resumeEvents(state, pipeline, outcome);
      if (E.isLeft(claim)) return claim;
      if (claim.right.type === 'run.failed') return E.right({ events: [claim.right], next: { kind: 'finished' } });
      // Whatever the journal shows running was the previous holder's: it starts again.
      return afterward(state, pipeline, [claim.right], { stopping: false, worker: outcome.worker, now: null, executing: NONE });
    }
    case 'tick':
      return afterward(state, pipeline, [], {
        stopping: outcome.stopping,
        stopReason: outcome.stopReason,
        worker: outcome.worker,
        now: outcome.now,
        executing: outcome.executing ?? NONE,
      });
    case 'attempt':
    case 'attempts': {
      if (state === null) return E.left(notCreated('', 'step.succeeded'));
      const events =
        outcome.kind === 'attempt' ? attemptEvents(pipeline, outcome) : outcome.ended.flatMap((a) => attemptEvents(pipeline, a));
      return afterward(state, pipeline, events, {
        stopping: outcome.stopping,
        stopReason: outcome.stopReason,
        worker: outcome.worker,
        now: null,
        executing: outcome.executing ?? NONE,
      });
    }
    case 'journalRefused':
      if (state === null || isFinished(state)) return E.right({ events: [], next: { kind: 'finished' } });
      // We hold the run but cannot journal its progress. Hand it back when the database is out
      // of reach (someone may resume it later); when the write itself is refused, end it with the
      // reason, so that a run nobody drives does not stay out of check-interrupted.
      return E.right(
        outcome.unreachable
          ? {
              events: [{ type: 'run.released', payload: { worker: outcome.worker, reason: 'cannot reach the database' } }],
              next: { kind: 'released' },
            }
          : {
              events: [
                {
                  type: 'run.failed',
                  payload: { reason: `could not journal the run's progress: ${outcome.message}`, step: null },
                },
              ],
              next: { kind: 'finished' },
            },
      );
    default:
      return assertNever(outcome);
  }
};

const notCreated = (runId: string, type: string): IllegalTransition =>
  OrbitErrors.illegalTransition(runId, 1, type, 'a run must begin with run.created');

/** The state the run would have if `events` were written now (times relative to PENDING_EPOCH). */
export const simulate = (
  state: RunState | null,
  events: readonly RunEvent[],
  runId: string = state?.runId ?? '',
): E.Either<IllegalTransition, RunState | null> => {
  const seq0 = state?.lastSeq ?? 0;
  return foldEvents(
    state,
    events.map((event, i) => ({ runId, seq: seq0 + i + 1, occurredAt: PENDING_EPOCH, writer: '', eventId: '', event })),
  );
};

interface Circumstances {
  readonly stopping: boolean;
  /** Journaled as the release's reason; a shutdown when not given. */
  readonly stopReason?: string;
  readonly worker: string;
  /** The database's time; null when `pending` is not empty (then no wait is measured). */
  readonly now: string | null;
  /** Steps the executor is running now (see Outcome.executing). */
  readonly executing: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

const wait = (wakeAt: string | null = null, decideAgain = false, starts: readonly StepStart[] = []): Next => ({
  kind: 'run',
  starts,
  wakeAt,
  decideAgain,
});

/**
 * `pending` are about to be written: add what comes after them. Only the run's open steps (those
 * whose dependencies all succeeded, kept by the fold) are looked at, so this costs the same at
 * the first step of a long run as at its last.
 */
const afterward = (
  state: RunState | null,
  pipeline: Pipeline,
  pending: readonly RunEvent[],
  c: Circumstances,
  runId: string = state?.runId ?? '',
): E.Either<IllegalTransition | ResumeRefusal, Decision> => {
  const simulated = pending.length > 0 ? simulate(state, pending, runId) : E.right(state);
  if (E.isLeft(simulated)) return simulated;
  const view = simulated.right;
  if (view === null) return E.left(notCreated(runId, 'run.created'));
  const then = (more: readonly RunEvent[], next: Next): E.Either<IllegalTransition | ResumeRefusal, Decision> =>
    E.right({ events: [...pending, ...more], next });

  if (isFinished(view)) return then([], { kind: 'finished' });
  const executing = c.executing;
  if (c.stopping) {
    // Branches still executing end first (a graceful stop lets them finish, a hard stop aborts
    // them); the run is handed back with the last outcome.
    if (executing.size > 0) return then([], wait());
    return then([{ type: 'run.released', payload: { worker: c.worker, reason: c.stopReason ?? 'worker shutting down' } }], {
      kind: 'released',
    });
  }
  if (view.open.length === 0) return then([{ type: 'run.succeeded', payload: {} }], { kind: 'finished' });

  let failure: RunFailed['payload'] | null = null;
  const restarts: StepState[] = [];
  const fresh: StepState[] = [];
  let wakeAt: string | null = null;
  let decideAgain = false;
  const wakeBy = (due: string) => {
    if (wakeAt === null || Date.parse(due) < Date.parse(wakeAt)) wakeAt = due;
  };
  // Sleeping and waiting steps: their ends (journaled now), the earliest one still ahead, and
  // whether one is still ahead (then, with nothing else to do, the run is suspended).
  const wakeEvents: RunEvent[] = [];
  const turnedAway = new Set<number>();
  let sleepsUntil: string | null = null;
  let suspended = false;
  // What a map step decides: its own start and end, and its items' starts.
  const mapEvents: RunEvent[] = [];
  const itemStarts: StepStart[] = [];
  let mapFailed = false;
  for (const i of view.open) {
    const step = view.steps[i] as StepState;
    if (executing.has(step.name)) continue;
    const def = stepDefinition(pipeline, step.name);
    if (def === undefined) {
      failure ??= { reason: `step "${step.name}" is not in the registered pipeline "${pipeline.name}"`, step: step.name };
      continue;
    }
    if (step.status === 'failed') {
      const message = step.error?.message ?? 'unknown error';
      failure ??= { reason: runFailedReason(step.name, step.attemptCount, step.retryable === true, message), step: step.name };
      continue;
    }
    const m = view.maps?.[step.name];
    if (def.map !== undefined && (step.status !== 'running' || m !== undefined)) {
      if (step.status === 'running' && m !== undefined) {
        const r = mapItems(step, def, m, c, pending.length > 0);
        mapEvents.push(...r.events);
        itemStarts.push(...r.starts);
        if (r.wakeAt !== null) wakeBy(r.wakeAt);
        decideAgain ||= r.decideAgain;
        mapFailed ||= r.failed;
      } else {
        // The map step starts: its list is fixed (its length journaled) and its items start next.
        const attempt = step.attemptCount + 1;
        const list = mapListOf(view, pipeline, def);
        if (E.isLeft(list)) {
          mapEvents.push(
            { type: 'step.started', stepName: step.name, attempt, payload: {} },
            {
              type: 'step.failed',
              stepName: step.name,
              attempt,
              payload: { error: { name: 'MapListError', message: list.left }, retryable: false },
            },
          );
          mapFailed = true;
        } else mapEvents.push({ type: 'step.started', stepName: step.name, attempt, payload: { items: list.right.length } });
        decideAgain = true;
      }
      continue;
    }
    if (step.status === 'sleeping' || step.status === 'waiting') {
      const woke = wakeOf(view, step, def, c, pending.length > 0, turnedAway);
      if (woke === 'later') {
        if (step.nextRetryAt !== null) sleepsUntil = earlier(sleepsUntil, step.nextRetryAt);
        suspended = true;
      } else if (woke === 'decideAgain') decideAgain = true;
      else {
        wakeEvents.push(woke);
        decideAgain = true;
      }
      continue;
    }
    if (step.status === 'retrying' && step.nextRetryAt !== null) {
      // The wait is measured from the committed retry time, so commit first and decide again.
      if (c.now === null || pending.length > 0) {
        decideAgain = true;
        continue;
      }
      if (Date.parse(c.now) < Date.parse(step.nextRetryAt)) {
        wakeBy(step.nextRetryAt);
        continue;
      }
    }
    // Left running by a previous holder (or a hard stop): its next attempt goes first.
    (step.status === 'running' ? restarts : fresh).push(step);
  }
  if (failure !== null) {
    // A step failed for good: nothing new starts, the branches in flight end, then the run fails.
    if (executing.size > 0) return then([], wait());
    return then([{ type: 'run.failed', payload: failure }], { kind: 'finished' });
  }
  if (mapFailed) {
    // A map step failed for good: nothing new starts; the run fails at the next decision.
    return then(mapEvents, wait(null, true));
  }
  // Branches busy: steps executing, map steps running (whatever their items do).
  const busy = new Set<string>();
  for (const k of executing) busy.add(stepOfKey(k));
  for (const i of view.open) {
    const st = view.steps[i] as StepState;
    if (st.status === 'running' && view.maps?.[st.name] !== undefined) busy.add(st.name);
  }
  const room = Math.max(0, (pipeline.maxParallel ?? DEFAULT_MAX_PARALLEL) - busy.size);
  const stepStarts: StepStart[] = [...restarts, ...fresh]
    .slice(0, room)
    .map((s) => ({ stepName: s.name, attempt: s.attemptCount + 1 }));
  const starts = [...itemStarts, ...stepStarts];
  if (suspended && starts.length === 0 && executing.size === 0 && busy.size === 0 && !decideAgain && wakeAt === null) {
    // Nothing to run, nothing to wait for here but sleeps and events: hand the run back; a worker
    // wakes it (database deadline, or the event's NOTIFY). It holds no worker and no lease meanwhile.
    return then([...mapEvents, ...wakeEvents, { type: 'run.suspended', payload: { worker: c.worker } }], { kind: 'released' });
  }
  if (sleepsUntil !== null) wakeBy(sleepsUntil);
  return then(
    [
      ...wakeEvents,
      ...mapEvents,
      ...itemStarts.map((s): RunEvent => ({
        type: 'item.started',
        stepName: s.stepName,
        attempt: s.attempt,
        payload: { index: s.item as number },
      })),
      ...stepStarts.map((s): RunEvent => ({ type: 'step.started', stepName: s.stepName, attempt: s.attempt, payload: {} })),
    ],
    wait(wakeAt, decideAgain, starts),
  );
};

const earlier = (a: string | null, b: string): string => (a === null || Date.parse(b) < Date.parse(a) ? b : a);

/**
 * A sleeping or waiting step: the event that ends it now (a sleep that is over, a wait whose event
 * was received, or whose timeout passed: failed, or succeeded with its default), `later` when
 * it goes on, or `decideAgain` when only the commit can tell the time.
 */
const wakeOf = (
  view: RunState,
  step: StepState,
  def: StepDefinition<unknown>,
  c: Circumstances,
  pending: boolean,
  /** Events of the inbox turned away in this decision already (two steps may wait for one name). */
  turnedAway: Set<number>,
): RunEvent | 'later' | 'decideAgain' => {
  const { name, attemptCount: attempt } = step;
  if (step.status === 'waiting') {
    const got = view.inbox?.find((x) => x.event === step.waitingFor && !turnedAway.has(x.seq));
    if (got !== undefined) {
      // Data its codec does not decode would break every later step that reads it, and failing the
      // step would let one bad send end the run: the event is turned away, the step waits on.
      const decoded = def.output === undefined ? null : def.output.decode(got.data);
      if (decoded !== null && E.isLeft(decoded)) {
        turnedAway.add(got.seq);
        return {
          type: 'event.rejected',
          payload: {
            event: got.event,
            seq: got.seq,
            step: name,
            reason: `its data does not match step "${name}"'s codec: ${describeDecodeError(decoded.left)}`,
          },
        };
      }
      return { type: 'step.succeeded', stepName: name, attempt, payload: { result: got.data } };
    }
  }
  if (step.nextRetryAt === null) return 'later';
  if (c.now === null || pending) return 'decideAgain';
  if (Date.parse(c.now) < Date.parse(step.nextRetryAt)) return 'later';
  if (step.status === 'sleeping') return { type: 'step.succeeded', stepName: name, attempt, payload: { result: null } };
  const onTimeout = def.waitForEvent?.onTimeout ?? 'fail';
  if (onTimeout !== 'fail') {
    const data = toJsonValue(onTimeout.continueWith);
    if (data.ok) return { type: 'step.succeeded', stepName: name, attempt, payload: { result: data.value ?? null } };
  }
  const message = `no ${JSON.stringify(step.waitingFor ?? '')} event arrived by ${step.nextRetryAt}`;
  return {
    type: 'step.failed',
    stepName: name,
    attempt,
    payload: { error: { name: 'EventTimeout', message }, retryable: false },
  };
};

interface MapDecision {
  readonly events: readonly RunEvent[];
  readonly starts: readonly StepStart[];
  readonly wakeAt: string | null;
  readonly decideAgain: boolean;
  /** The map step's failure is among `events`. */
  readonly failed: boolean;
}

/**
 * A running map step: the items to start (those left running by a previous holder, retries that
 * are due, items pending again, then the next ones of the list), up to its concurrency, counting
 * the items executing and those waiting for a retry; or its end, once every item succeeded, or
 * once an item failed for good and no other item is executing. Looks at the open items only.
 */
const mapItems = (
  step: StepState,
  def: StepDefinition<unknown>,
  m: MapState,
  c: Circumstances,
  pending: boolean,
): MapDecision => {
  const name = step.name;
  const none = { events: [], starts: [], wakeAt: null, decideAgain: false, failed: false };
  if (m.succeeded === m.count) {
    return {
      ...none,
      events: [{ type: 'step.succeeded', stepName: name, attempt: step.attemptCount, payload: { result: mapResults(m) } }],
      decideAgain: true,
    };
  }
  let occupied = 0;
  let executing = 0;
  let failedItem: number | null = null;
  let wakeAt: string | null = null;
  let decideAgain = false;
  const ready: number[] = [];
  const again: number[] = [];
  for (const i of m.open) {
    const it = itemOf(m, i);
    if (it === undefined) continue;
    if (c.executing.has(itemKey(name, i))) {
      occupied++;
      executing++;
      continue;
    }
    switch (it.status) {
      case 'failed':
        failedItem ??= i;
        break;
      case 'running':
        ready.push(i);
        break;
      case 'pending':
        again.push(i);
        break;
      case 'retrying':
        if (it.nextRetryAt === null) ready.push(i);
        else if (c.now === null || pending) {
          occupied++;
          decideAgain = true;
        } else if (Date.parse(c.now) < Date.parse(it.nextRetryAt)) {
          occupied++;
          if (wakeAt === null || Date.parse(it.nextRetryAt) < Date.parse(wakeAt)) wakeAt = it.nextRetryAt;
        } else ready.push(i);
        break;
      case 'success':
        break;
    }
  }
  if (failedItem !== null) {
    if (executing > 0) return none;
    const it = itemOf(m, failedItem);
    const why = it?.error ?? { name: 'Error', message: 'unknown error' };
    const after = it?.retryable === true ? ` after ${it.attempt} attempt(s)` : '';
    const error = { name: why.name, message: `item ${failedItem} failed${after}: ${why.message}` };
    return {
      ...none,
      events: [{ type: 'step.failed', stepName: name, attempt: step.attemptCount, payload: { error, retryable: false } }],
      failed: true,
    };
  }
  const limit = def.map?.concurrency ?? DEFAULT_MAP_CONCURRENCY;
  let room = Math.max(0, limit - occupied);
  const starts: StepStart[] = [];
  for (const i of [...ready, ...again]) {
    if (room === 0) break;
    starts.push({ stepName: name, item: i, attempt: (itemOf(m, i)?.attempt ?? 0) + 1 });
    room--;
  }
  for (let i = m.next; i < m.count && room > 0; i++, room--) starts.push({ stepName: name, item: i, attempt: 1 });
  return { events: [], starts, wakeAt, decideAgain, failed: false };
};
