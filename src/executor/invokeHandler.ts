import * as E from 'fp-ts/Either';
import type { StepError } from '../events/runEvents';
import { toJsonValue } from '../events/json';
import { timeoutMessage } from '../decide/attemptEvents';
import type { AttemptResult } from '../decide/decision';
import type { StepContext, StepDefinition } from '../pipeline/types';
import { describeDecodeError } from '../events/decodeErrors';
import { isNonRetryable, showValue, toStepError } from './stepError';

/** What one attempt of a step came to. `aborted`: the run was cancelled, taken over or hard-stopped mid-step. */
export type AttemptOutcome = AttemptResult | { readonly kind: 'aborted'; readonly reason: string };

const failed = (error: StepError, retryable: boolean): AttemptOutcome => ({ kind: 'failed', error, retryable });

/** "17300000 bytes (17.3 MB)" for messages: the exact figure, and a readable one when large. */
const sizeText = (bytes: number): string => (bytes >= 1e6 ? `${bytes} bytes (${(bytes / 1e6).toFixed(1)} MB)` : `${bytes} bytes`);

/** Checks and converts a handler's return value into what will be journaled. */
const toOutcome = (step: StepDefinition, value: unknown, maxResultBytes: number): AttemptOutcome => {
  if (typeof value !== 'object' || value === null || typeof (value as { success?: unknown }).success !== 'boolean') {
    return failed(
      {
        name: 'InvalidStepResult',
        message: `step "${step.name}" returned ${showValue(value)}; expected { success: true, data? } or { success: false, error }`,
      },
      false,
    );
  }
  const r = value as { success: boolean; data?: unknown; error?: unknown; retryable?: unknown };
  if (!r.success) {
    return failed(toStepError(r.error ?? 'step reported failure'), r.retryable !== false && !isNonRetryable(r.error));
  }
  let data = r.data;
  if (step.output !== undefined && data !== undefined) {
    if (!step.output.is(data)) {
      const d = step.output.decode(data);
      if (E.isLeft(d)) {
        return failed(
          {
            name: 'InvalidStepOutput',
            message: `step "${step.name}" output does not match its codec: ${describeDecodeError(d.left)}`,
          },
          false,
        );
      }
      data = d.right;
    }
    data = step.output.encode(data);
  }
  const json = toJsonValue(data);
  if (!json.ok) {
    return failed(
      {
        name: 'UnserializableResult',
        message: `step "${step.name}" returned data that cannot be journaled as JSON: ${json.reason}`,
      },
      false,
    );
  }
  // Measured as journaled (its JSON in UTF-8); an over-size result is refused for good: the
  // same code would return it again.
  const bytes = json.value === undefined ? 0 : Buffer.byteLength(JSON.stringify(json.value), 'utf8');
  if (bytes > maxResultBytes) {
    return failed(
      {
        name: 'ResultTooLarge',
        message:
          `step "${step.name}" returned a result of ${sizeText(bytes)}, over the maxResultBytes cap (ORBIT_MAX_RESULT_BYTES) ` +
          `of ${sizeText(maxResultBytes)}: store large data elsewhere and return a reference to it`,
      },
      false,
    );
  }
  return { kind: 'succeeded', result: json.value };
};

/**
 * Runs one attempt of a step's handler. Throwing, returning `{ success: false }`, timing out and
 * returning something that cannot be journaled are all failures, never crashes of the executor.
 * If `controller` aborts (cancellation, fencing) the attempt ends at once as `aborted`; a handler
 * that ignores its signal keeps running in the background, but its result is discarded.
 */
export const invokeHandler = async (
  step: StepDefinition<unknown>,
  ctx: StepContext<unknown>,
  controller: AbortController,
  /** The client's `maxResultBytes`: a larger result fails the step (ResultTooLarge, not retried). */
  maxResultBytes: number = Infinity,
): Promise<AttemptOutcome> => {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<AttemptOutcome>((resolve) => {
    if (step.timeoutMs === undefined) return;
    const afterMs = step.timeoutMs;
    timer = setTimeout(() => {
      // Settle as timed out before aborting, so the race below sees a timeout, not an abort.
      resolve({ kind: 'timedOut', afterMs });
      const message = timeoutMessage(step.name, afterMs);
      controller.abort(Object.assign(new Error(message), { name: 'TimeoutError' }));
    }, afterMs);
  });
  const aborted = new Promise<AttemptOutcome>((resolve) => {
    onAbort = () => {
      const reason: unknown = controller.signal.reason;
      resolve({ kind: 'aborted', reason: reason instanceof Error ? reason.message : String(reason) });
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  const ran = (async (): Promise<AttemptOutcome> => {
    let value: unknown;
    try {
      if (step.handler === undefined) throw new Error(`step "${step.name}" has no handler`);
      value = await step.handler(ctx);
    } catch (err) {
      return failed(toStepError(err), !isNonRetryable(err));
    }
    try {
      return toOutcome(step, value, maxResultBytes);
    } catch (err) {
      // A getter, Proxy trap or codec that throws while the result is read: the result is unusable.
      const why = toStepError(err);
      return failed(
        { name: 'InvalidStepResult', message: `step "${step.name}" returned a value that cannot be read: ${why.message}` },
        false,
      );
    }
  })();
  try {
    return await Promise.race([ran, timedOut, aborted]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
  }
};
