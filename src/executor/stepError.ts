import { inspect, types } from 'node:util';
import { toStorableText } from '../events/json';
import type { StepError } from '../events/runEvents';

/**
 * The brand every NonRetryableError carries, registered process-wide (`Symbol.for`), so that one
 * thrown from another copy of the package (a pipelines module with its own node_modules) is
 * recognised too, where `instanceof` is false.
 */
const NON_RETRYABLE = Symbol.for('orbit-pipeline.NonRetryableError');

/** Throw (or return as `error`) to fail a step without retrying it. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
    Object.defineProperty(this, NON_RETRYABLE, { value: true, enumerable: false });
  }
}

/** How much of a failure's stack is journaled. */
export const MAX_STACK = 4000;
/** How much of a failure's message is journaled: it is stored in three places (step, run, projection). */
export const MAX_ERROR_MESSAGE = 4000;
const MAX_ERROR_NAME = 200;

/** Text cut to `max` characters, saying how much was left out. */
export const capText = (s: string, max: number): string =>
  s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;

type Read = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Runs code that may belong to the handler (getters, Proxy traps, toJSON) without letting it throw. */
const attempt = (f: () => unknown): Read => {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
};

/** One line about what a getter or trap threw, read without calling anything else of the handler's. */
const whyUnreadable = (error: unknown): string => {
  const m = attempt(() => (error instanceof Error ? error.message : undefined));
  return m.ok && typeof m.value === 'string' ? m.value : 'an unreadable value was thrown while reading it';
};

/**
 * Text for any value: strings as they are, JSON where it serialises, else Node's inspection with
 * the handler's code switched off (no getters, no custom inspect, Proxies shown, not trapped).
 */
const textOf = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  const json = attempt(() => JSON.stringify(value));
  if (json.ok && typeof json.value === 'string') return json.value;
  const shown = attempt(() => inspect(value, { depth: 2, getters: false, customInspect: false, showProxy: true }));
  if (shown.ok && typeof shown.value === 'string') return shown.value;
  return `a ${typeof value} that cannot be read or printed`;
};

/** A value as a short line of text (strings quoted), for messages that echo what a handler returned. */
export const showValue = (value: unknown, max = 200): string =>
  capText(typeof value === 'string' ? JSON.stringify(value) : textOf(value), max).replace(/\s*\n\s*/g, ' ');

/** A field of a thrown value as text: undefined when absent, a note when reading it threw. */
const field = (err: object, key: 'name' | 'message' | 'stack'): string | undefined => {
  const r = attempt(() => (err as Record<string, unknown>)[key]);
  if (!r.ok) return `(its ${key} could not be read: ${whyUnreadable(r.error)})`;
  return r.value === undefined || r.value === null ? undefined : textOf(r.value);
};

const describe = (err: unknown): StepError => {
  if (typeof err === 'string') return { name: 'Error', message: err };
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: textOf(err) };
  if (types.isProxy(err)) {
    // A revoked Proxy throws on every read, instanceof included: say what it is.
    const probe = attempt(() => Object.getPrototypeOf(err));
    if (!probe.ok) return { name: 'Error', message: `a Proxy that cannot be read was thrown (${whyUnreadable(probe.error)})` };
  }
  const isError = attempt(() => err instanceof Error);
  const message = attempt(() => (err as { message?: unknown }).message);
  // Errors from another realm or library fail instanceof but carry a message: read them as errors.
  const errorLike = (isError.ok && isError.value === true) || (message.ok && typeof message.value === 'string') || !message.ok;
  if (!errorLike) return { name: 'Error', message: textOf(err) };
  const name = attempt(() => (err as { name?: unknown }).name);
  const stack = field(err, 'stack');
  return {
    name: name.ok && typeof name.value === 'string' && name.value !== '' ? name.value : 'Error',
    message: field(err, 'message') ?? '',
    ...(stack === undefined || stack === '' ? {} : { stack }),
  };
};

/**
 * Turns whatever a handler threw or returned as `error` into the journaled form; never throws,
 * whatever the value (non-string fields, throwing getters, revoked Proxies, cycles). Its text is
 * capped and made storable (PostgreSQL refuses NUL and unpaired surrogates), so a failure can
 * always be journaled.
 */
export const toStepError = (err: unknown): StepError => {
  const e = describe(err);
  return {
    name: toStorableText(capText(e.name, MAX_ERROR_NAME)),
    message: toStorableText(capText(e.message, MAX_ERROR_MESSAGE)),
    ...(e.stack === undefined ? {} : { stack: toStorableText(e.stack.slice(0, MAX_STACK)) }),
  };
};

/**
 * Whether a failure must not be retried: a NonRetryableError of this copy of the package or of
 * any other (its brand); false for any value that cannot be read.
 */
export const isNonRetryable = (err: unknown): boolean => {
  const r = attempt(
    () =>
      err instanceof NonRetryableError ||
      (typeof err === 'object' && err !== null && (err as { [NON_RETRYABLE]?: unknown })[NON_RETRYABLE] === true),
  );
  return r.ok && r.value === true;
};
