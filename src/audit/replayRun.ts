import * as E from 'fp-ts/Either';
import type { EventDecodeError, FoldFailure, InvalidInput, InvalidMetadata, RunNotFound } from '../errors';
import type { RecordedEvent } from '../events/runEvents';
import { visibleStepsOf } from '../context/prevResults';
import { buildStepContext } from '../executor/stepContext';
import { foldEvents } from '../fold/evolve';
import { isFinished, type RunState, type StepState } from '../fold/runState';
import { streamRunEvents } from '../journal/readEvents';
import type { PrevResult, StepContext, StepData } from '../pipeline/types';
import type { OrbitClient } from '../runtime/orbitClient';

/** A moment in a run's history: just after the event with this seq, or at this time. */
export type ReplayPoint = { readonly seq: number } | { readonly time: string };

// Metadata as decoded by the pipeline's codec, or the raw journal value: unknown, not JsonObject.
/** The StepContext as data (no AbortSignal): what a handler would have been given. */
export type ReplayedContext = Omit<StepContext<unknown>, 'signal'>;

/** A run as it stood at a past moment. */
export interface Replay {
  readonly runId: string;
  readonly at: ReplayPoint;
  /** The last event at or before the point: the state includes it and nothing after it. */
  readonly lastEvent: RecordedEvent;
  /** The fold of the journal up to and including `lastEvent`. */
  readonly state: RunState;
  /** Events journaled after the point. */
  readonly eventsAfter: number;
  /**
   * The step the run would execute next then, and the context it would have received: for a step
   * in flight at that moment, the context of its current attempt. Null when the run had ended or
   * every step had succeeded.
   */
  readonly next: ReplayedStep | null;
  /**
   * Every step ready then (not succeeded, its dependencies all succeeded), in step order, each with
   * its context: `next` is the first. One for a linear pipeline; the branches of a DAG that were in
   * flight, waiting for a retry or about to start. Empty when `next` is null.
   */
  readonly ready: readonly ReplayedStep[];
}

/** A step the run would execute next at the replayed moment, and the context it would get. */
export interface ReplayedStep {
  readonly stepName: string;
  readonly attempt: number;
  /** Whether the attempt was already running at that moment. */
  readonly inFlight: boolean;
  readonly context: ReplayedContext;
  /**
   * Whether `metadata` and `prevResults` went through the pipeline's codecs (its definition was
   * registered); otherwise they are the journaled JSON.
   */
  readonly decoded: boolean;
}

/** `"12"` is a seq, anything else must be an ISO-8601 time. */
export const parseReplayPoint = (text: string): E.Either<InvalidInput, ReplayPoint> => {
  if (/^\d+$/.test(text)) {
    const seq = Number(text);
    return seq >= 1 && Number.isSafeInteger(seq)
      ? E.right({ seq })
      : E.left({ _tag: 'InvalidInput', what: '--at', message: 'a seq starts at 1' });
  }
  const ms = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(ms)) {
    return E.left({
      _tag: 'InvalidInput',
      what: '--at',
      message: `expected a seq (1, 2, ...) or an ISO-8601 time, got ${JSON.stringify(text)}`,
    });
  }
  return E.right({ time: new Date(ms).toISOString() });
};

const includes = (at: ReplayPoint, r: RecordedEvent): boolean =>
  'seq' in at ? r.seq <= at.seq : Date.parse(r.occurredAt) <= Date.parse(at.time);

/** The context built from the journal alone, when the pipeline's codecs are not at hand. */
const rawContext = (state: RunState, stepName: string, attempt: number): ReplayedContext => {
  const prevResults: Record<string, PrevResult> = {};
  // A DAG's step sees only the steps it depends on, as the executor's context does.
  for (const s of visibleStepsOf(state, stepName)) {
    if (s.status !== 'success') continue;
    prevResults[s.name] = s.result === null ? { success: true } : { success: true, data: s.result as StepData };
  }
  return {
    runId: state.runId,
    pipelineId: state.pipelineId,
    stepName,
    attempt,
    metadata: state.metadata,
    prevResults,
    idempotencyKey: `${state.runId}:${stepName}`,
  };
};

/**
 * Where ownership last changed hands (run.resumed, run.released) and where each step last started:
 * a step still `running` in the fold after a resume or release is not in flight; its interrupted
 * attempt is over and the next context is the attempt after it.
 */
interface Marks {
  lastHandover: number;
  readonly lastStarted: Map<string, number>;
}

const mark = (marks: Marks, r: RecordedEvent): void => {
  const e = r.event;
  if (e.type === 'run.resumed' || e.type === 'run.released') marks.lastHandover = r.seq;
  else if (e.type === 'step.started') marks.lastStarted.set(e.stepName, r.seq);
};

const replayedStep = (
  client: OrbitClient,
  state: RunState,
  marks: Marks,
  step: StepState,
): E.Either<InvalidMetadata | EventDecodeError, ReplayedStep> => {
  const inFlight = step.status === 'running' && (marks.lastStarted.get(step.name) ?? 0) > marks.lastHandover;
  const attempt = inFlight ? step.attemptCount : step.attemptCount + 1;
  const pipeline = client.registry.getPipeline(state.pipelineId);
  if (E.isLeft(pipeline)) {
    return E.right({ stepName: step.name, attempt, inFlight, context: rawContext(state, step.name, attempt), decoded: false });
  }
  const ctx = buildStepContext(state, pipeline.right, step.name, attempt, new AbortController().signal);
  if (E.isLeft(ctx)) return ctx;
  const { runId, pipelineId, stepName, attempt: n, metadata, prevResults, idempotencyKey } = ctx.right;
  const context: ReplayedContext = { runId, pipelineId, stepName, attempt: n, metadata, prevResults, idempotencyKey };
  return E.right({ stepName: step.name, attempt, inFlight, context, decoded: true });
};

/** The ready steps (the fold's open set, in step order) with their contexts; none once the run ended. */
const readyOf = (
  client: OrbitClient,
  state: RunState,
  marks: Marks,
): E.Either<InvalidMetadata | EventDecodeError, readonly ReplayedStep[]> => {
  if (isFinished(state)) return E.right([]);
  const out: ReplayedStep[] = [];
  for (const i of state.open) {
    const r = replayedStep(client, state, marks, state.steps[i] as StepState);
    if (E.isLeft(r)) return r;
    out.push(r.right);
  }
  return E.right(out);
};

/**
 * Replays a run's journal up to a point (a seq, or a time: every event that occurred at or before
 * it) and returns the run's state then, and the StepContext its next step would have received.
 * The journal is only read; the projections are not consulted.
 */
export const replayRun = async (
  client: OrbitClient,
  runId: string,
  at: ReplayPoint,
): Promise<E.Either<FoldFailure | RunNotFound | InvalidInput | InvalidMetadata | EventDecodeError, Replay>> => {
  let state: RunState | null = null;
  let lastEvent: RecordedEvent | null = null;
  let eventsAfter = 0;
  let total = 0;
  const marks: Marks = { lastHandover: 0, lastStarted: new Map() };
  for await (const batch of streamRunEvents(client.db, runId)) {
    if (E.isLeft(batch)) return batch;
    total += batch.right.length;
    const inside = batch.right.filter((r) => includes(at, r));
    eventsAfter += batch.right.length - inside.length;
    if (inside.length === 0) continue;
    const next = foldEvents(state, inside);
    if (E.isLeft(next)) return next;
    state = next.right;
    for (const r of inside) mark(marks, r);
    lastEvent = inside[inside.length - 1] as RecordedEvent;
  }
  if (total === 0) return E.left({ _tag: 'RunNotFound', runId });
  if (state === null || lastEvent === null) {
    return E.left({ _tag: 'InvalidInput', what: '--at', message: `run ${runId} had not begun at ${JSON.stringify(at)}` });
  }
  if ('seq' in at && at.seq > lastEvent.seq) {
    return E.left({
      _tag: 'InvalidInput',
      what: '--at',
      message: `run ${runId} has ${lastEvent.seq} event(s), no seq ${at.seq}`,
    });
  }
  const ready = readyOf(client, state, marks);
  if (E.isLeft(ready)) return ready;
  return E.right({ runId, at, lastEvent, state, eventsAfter, next: ready.right[0] ?? null, ready: ready.right });
};
