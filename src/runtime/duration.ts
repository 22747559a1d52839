import * as E from 'fp-ts/Either';
import type { InvalidInput } from '../errors';

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

/** The default interrupted-run threshold: the spec's 10 minutes. */
export const DEFAULT_THRESHOLD_MS = 10 * 60_000;

/** The default lease: renewed every 5 s, so a live owner survives a few missed renewals. */
export const DEFAULT_LEASE_MS = 15_000;

/** `ORBIT_INTERRUPTED_THRESHOLD` if set and valid, else the default. */
// A plain record, not NodeJS.ProcessEnv: the emitted .d.ts must compile without @types/node.
export const thresholdFromEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): E.Either<InvalidInput, number> => {
  const v = env.ORBIT_INTERRUPTED_THRESHOLD;
  return v === undefined || v === '' ? E.right(DEFAULT_THRESHOLD_MS) : parseDuration(v, 'ORBIT_INTERRUPTED_THRESHOLD');
};

/** The shortest lease: renewals at a third of it stay meaningful. */
export const MIN_LEASE_MS = 300;

/** `ORBIT_LEASE` if set and valid (at least 300 ms), else 15 s. */
export const leaseFromEnv = (env: Readonly<Record<string, string | undefined>> = process.env): E.Either<InvalidInput, number> => {
  const v = env.ORBIT_LEASE;
  if (v === undefined || v === '') return E.right(DEFAULT_LEASE_MS);
  const d = parseDuration(v, 'ORBIT_LEASE');
  if (E.isRight(d) && d.right < MIN_LEASE_MS)
    return E.left({ _tag: 'InvalidInput', what: 'ORBIT_LEASE', message: `${v} is shorter than 300ms` });
  return d;
};

/**
 * For the CLI, before any connection: `true` when `--threshold`, `ORBIT_INTERRUPTED_THRESHOLD`
 * and `ORBIT_LEASE` are valid durations, else the message of the usage error (exit 2).
 */
export const checkDurationSettings = (
  argv: { readonly threshold?: string | number },
  env: Readonly<Record<string, string | undefined>> = process.env,
): true | string => {
  const checks = [
    argv.threshold === undefined ? E.right(0) : parseDuration(String(argv.threshold), '--threshold'),
    thresholdFromEnv(env),
    leaseFromEnv(env),
  ];
  for (const c of checks) if (E.isLeft(c) && c.left._tag === 'InvalidInput') return `Invalid ${c.left.what}: ${c.left.message}`;
  return true;
};
