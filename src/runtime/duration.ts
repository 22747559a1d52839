import * as E from 'fp-ts/Either';
import type { OrbitError } from '../errors';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `10m`, `1h`, `2d` (or a bare number of milliseconds) into milliseconds. */
export const parseDuration = (text: string, what = 'duration'): E.Either<OrbitError, number> => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (m === null) {
    return E.left({ _tag: 'InvalidInput', what, message: `${JSON.stringify(text)} is not a duration (use e.g. 30s, 10m, 1h)` });
  }
  const ms = Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1);
  if (!Number.isFinite(ms) || ms <= 0) return E.left({ _tag: 'InvalidInput', what, message: `${text} must be more than zero` });
  return E.right(Math.round(ms));
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

/** `ORBIT_INTERRUPTED_THRESHOLD` if set and valid, else the default. */
export const thresholdFromEnv = (env: NodeJS.ProcessEnv = process.env): E.Either<OrbitError, number> => {
  const v = env.ORBIT_INTERRUPTED_THRESHOLD;
  return v === undefined || v === '' ? E.right(DEFAULT_THRESHOLD_MS) : parseDuration(v, 'ORBIT_INTERRUPTED_THRESHOLD');
};
