import * as E from 'fp-ts/Either';
import type { InvalidInput } from '../errors';

export { formatDuration, MAX_DURATION_MS, parseDuration } from '../util/duration';
import { parseDuration } from '../util/duration';

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
