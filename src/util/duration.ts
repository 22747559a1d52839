import * as E from 'fp-ts/Either';

/** The InvalidInput error (src/errors.ts), spelled out so that util/ depends on nothing of Orbit's. */
interface InvalidInput {
  readonly _tag: 'InvalidInput';
  readonly what: string;
  readonly message: string;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Longest duration accepted: a year. Anything longer is a typo, and overflows PostgreSQL's timestamps. */
export const MAX_DURATION_MS = 365 * 86_400_000;

const HINT = 'use a number with a unit: 500ms, 30s, 10m, 1h, 2d';

/**
 * Parses `500ms`, `30s`, `10m`, `1h`, `2d` into milliseconds. A unit is required: a bare `10`
 * was read as 10 ms where the spec means 10 minutes, which made live runs look dead. Values that
 * round to zero or exceed a year are refused too.
 */
export const parseDuration = (text: string, what = 'duration'): E.Either<InvalidInput, number> => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (m === null) {
    return E.left({ _tag: 'InvalidInput', what, message: `${JSON.stringify(text)} is not a duration (${HINT}, e.g. 10m)` });
  }
  if (m[2] === undefined) {
    return E.left({
      _tag: 'InvalidInput',
      what,
      message: `${JSON.stringify(text)} has no unit (${HINT}; e.g. 10m for ten minutes)`,
    });
  }
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2]] ?? 1));
  if (!Number.isFinite(ms) || ms <= 0) {
    return E.left({ _tag: 'InvalidInput', what, message: `${text} is less than a millisecond (${HINT}, e.g. 10m)` });
  }
  if (ms > MAX_DURATION_MS) {
    return E.left({ _tag: 'InvalidInput', what, message: `${text} is longer than a year (${HINT}, e.g. 10m)` });
  }
  return E.right(ms);
};

/** `600000` → `10m`, `1500` → `1.5s`. */
export const formatDuration = (ms: number): string => {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(3)}s`;
  return `${ms}ms`;
};
