import { toStorableText } from '../events/json';
import type { StepError } from '../events/runEvents';

/** Throw (or return as `error`) to fail a step without retrying it. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

const MAX_STACK = 4000;

/**
 * Turns whatever a handler threw or returned as `error` into the journaled form. Its text is made
 * storable (PostgreSQL refuses NUL and unpaired surrogates), so a failure can always be journaled.
 */
export const toStepError = (err: unknown): StepError => {
  const e = describe(err);
  return {
    ...e,
    name: toStorableText(e.name),
    message: toStorableText(e.message),
    ...(e.stack === undefined ? {} : { stack: toStorableText(e.stack) }),
  };
};

const describe = (err: unknown): StepError => {
  if (err instanceof Error) {
    const e: StepError = { name: err.name || 'Error', message: err.message };
    return err.stack ? { ...e, stack: err.stack.slice(0, MAX_STACK) } : e;
  }
  if (typeof err === 'string') return { name: 'Error', message: err };
  let text: string;
  try {
    text = JSON.stringify(err) ?? String(err);
  } catch {
    text = String(err);
  }
  return { name: 'Error', message: text };
};

export const isNonRetryable = (err: unknown): boolean => err instanceof NonRetryableError;
