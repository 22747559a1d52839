import * as E from 'fp-ts/Either';
import type { RunState } from '../fold/runState';
import { stepDefinition } from '../pipeline/stepDefinition';
import type { Pipeline, StepContext, StepDefinition } from '../pipeline/types';
import { durationMs } from '../pipeline/definePipeline';
import { isNonRetryable, showValue, toStepError } from './stepError';
import type { Clock } from '../util/clock';
import { invokeHandler, type AttemptOutcome } from './invokeHandler';
import { buildStepContext, type ItemInput } from './stepContext';
import { mapListOf } from '../decide/mapList';
import type { JsonValue } from '../events/json';

export interface AttemptRun {
  readonly outcome: AttemptOutcome;
  readonly durationMs: number;
  /** Whether the handler was called (false when its context could not be built). */
  readonly invoked: boolean;
}

/**
 * A sleep or wait step's attempt: when it ends (database clock), or why it cannot; null for a
 * handler step. A duration counts from `from` (the first start of an attempt that died before
 * journaling its sleep or wait; else now).
 */
const sleepOrWait = (
  def: StepDefinition<unknown>,
  ctx: StepContext<unknown>,
  dbNow: () => number,
  from: string | undefined,
): AttemptOutcome | null => {
  const start = (): number => {
    const t = from === undefined ? NaN : Date.parse(from);
    return Number.isFinite(t) ? t : dbNow();
  };
  const fail = (message: string): AttemptOutcome => ({
    kind: 'failed',
    error: { name: 'SleepError', message },
    retryable: false,
  });
  if (def.sleep !== undefined) {
    const ms = durationMs(def.sleep);
    return typeof ms === 'string' ? fail(ms) : { kind: 'sleep', until: new Date(start() + ms).toISOString() };
  }
  if (def.sleepUntil !== undefined) {
    let at: unknown;
    try {
      at = def.sleepUntil(ctx);
    } catch (err) {
      return { kind: 'failed', error: toStepError(err), retryable: !isNonRetryable(err) };
    }
    const t = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : typeof at === 'number' ? at : NaN;
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15)
      return fail(
        `step "${def.name}": sleepUntil returned ${showValue(at)}, not a time (a Date, an ISO string or epoch milliseconds)`,
      );
    return { kind: 'sleep', until: new Date(t).toISOString() };
  }
  if (def.waitForEvent !== undefined) {
    const { event, timeout } = def.waitForEvent;
    const ms = timeout === undefined ? null : durationMs(timeout);
    if (typeof ms === 'string') return fail(ms);
    return { kind: 'wait', event, timeoutAt: ms === null ? null : new Date(start() + ms).toISOString() };
  }
  return null;
};

/**
 * Runs one attempt of a step whose `step.started` is journaled in `state`. The attempt's signal
 * fires when any of `signals` does (fencing, cancellation, hard stop) or on timeout.
 */
export const runAttempt = async (
  state: RunState,
  pipeline: Pipeline,
  stepName: string,
  attempt: number,
  signals: readonly (AbortSignal | undefined)[],
  /** Measures the attempt's duration (the client's clock). */
  clock: Clock,
  /** The client's cap on a step result's size (bytes of JSON). */
  maxResultBytes: number = Infinity,
  /** The map item to run (its position in the step's list). */
  item?: number,
  /** The database's clock as this process sees it (a sleep's end, a wait's timeout); default `clock`. */
  dbNow: () => number = () => clock.now(),
): Promise<AttemptRun> => {
  const controller = new AbortController();
  const unlink = signals.map((signal) => {
    if (!signal) return () => undefined;
    const f = () => controller.abort(signal.reason);
    if (signal.aborted) f();
    else signal.addEventListener('abort', f, { once: true });
    return () => signal.removeEventListener('abort', f);
  });
  const t0 = clock.now();
  try {
    const def = stepDefinition(pipeline, stepName);
    let input: ItemInput | undefined;
    if (item !== undefined && def !== undefined) {
      const list = mapListOf(state, pipeline, def);
      const count = state.maps?.[stepName]?.count;
      const why = E.isLeft(list)
        ? list.left
        : list.right.length !== count
          ? `the list now has ${list.right.length} item(s), the journal ${String(count)}: over() must depend on metadata and earlier results only`
          : null;
      if (why !== null || E.isLeft(list)) {
        return {
          outcome: { kind: 'failed', error: { name: 'MapListError', message: why ?? 'no list' }, retryable: false },
          durationMs: clock.now() - t0,
          invoked: false,
        };
      }
      input = { index: item, value: list.right[item] as JsonValue };
    }
    const ctx = buildStepContext(state, pipeline, stepName, attempt, controller.signal, input);
    if (def === undefined || E.isLeft(ctx)) {
      const why = E.isLeft(ctx) ? ctx.left._tag : 'StepNotRegistered';
      return {
        outcome: { kind: 'failed', error: { name: why, message: `cannot build the step context: ${why}` }, retryable: false },
        durationMs: clock.now() - t0,
        invoked: false,
      };
    }
    const waited = sleepOrWait(def, ctx.right, dbNow, state.steps.find((s) => s.name === stepName)?.restartedFrom);
    if (waited !== null) return { outcome: waited, durationMs: clock.now() - t0, invoked: true };
    const outcome = await invokeHandler(def, ctx.right, controller, maxResultBytes);
    return { outcome, durationMs: clock.now() - t0, invoked: true };
  } finally {
    for (const u of unlink) u();
  }
};
