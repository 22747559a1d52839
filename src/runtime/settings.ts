/**
 * Every setting of a client, resolved once by `connect()`: its option, else the environment
 * (`connect({ env })`, default `process.env`), else the default. Nothing below src/runtime/ reads
 * the environment (test/structure/settingsOnClient.test.ts); everything takes the client's values.
 */
import * as E from 'fp-ts/Either';
import { DEFAULT_APPEND_SLOTS, DEFAULT_RETRY_BUDGET_MS } from '../db/database';
import type { InvalidInput } from '../errors';
import { systemClock, type Clock } from '../util/clock';
import type { Env } from '../util/env';
import { silentLogger, type Logger } from '../util/logger';
import { leaseFromEnv, MIN_LEASE_MS, thresholdFromEnv } from './duration';

export type { Env } from '../util/env';

/** The settings a client carries (`OrbitClient` has them all), resolved once by `connect()`. */
export interface ClientSettings {
  /** Runs with no activity (event or heartbeat) for longer than this are interrupted. */
  readonly thresholdMs: number;
  /** How long this process's claim on its runs lasts without renewal (renewed every third). */
  readonly leaseMs: number;
  /** How long a statement is retried through transient failures (a restart, a failover). */
  readonly retryBudgetMs: number;
  /** Group commit: append commits in flight at once. */
  readonly appendSlots: number;
  /** The largest step result (its JSON, in UTF-8 bytes) journaled; a larger one fails the step for good (ResultTooLarge). */
  readonly maxResultBytes: number;
  /** @internal `ORBIT_FAULT_AFTER`: crash tests only (src/executor/faultPoints.ts). */
  readonly faultAfter: string | undefined;
  /** Where the library reports what it recovers from by itself. Silent by default. */
  readonly logger: Logger;
  /** The wall clock of this process, for timers and durations (never for a run's liveness). */
  readonly clock: Clock;
}

/** The settings `connect()` takes; each one not given comes from the environment, else its default. */
export interface SettingOptions {
  /** Default `ORBIT_INTERRUPTED_THRESHOLD`, else 10 minutes. */
  readonly thresholdMs?: number;
  /** Default `ORBIT_LEASE`, else 15 s; at least 300 ms. */
  readonly leaseMs?: number;
  /** Default `ORBIT_RETRY_BUDGET_MS`, else 30 s. */
  readonly retryBudgetMs?: number;
  /** Default `ORBIT_APPEND_SLOTS`, else 2 (1 to 64). */
  readonly appendSlots?: number;
  /**
   * The largest step result journaled, in bytes of its JSON (UTF-8). A step that returns more fails
   * without retry (`ResultTooLarge`, naming the step, the size and the cap): a result is stored in
   * the journal and the projection and read back by every later step, verify and export.
   * Default `ORBIT_MAX_RESULT_BYTES`, else 16 MiB (16777216); at least 1.
   */
  readonly maxResultBytes?: number;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Default: the system clock. Tests inject one. */
  readonly clock?: Clock;
}

/** `ORBIT_RETRY_BUDGET_MS`: whole milliseconds; anything else leaves the default (as it always did). */
const retryBudgetFromEnv = (env: Env): number => {
  const v = env.ORBIT_RETRY_BUDGET_MS;
  const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : DEFAULT_RETRY_BUDGET_MS;
};

/** `ORBIT_APPEND_SLOTS`, for measuring (docs/PERFORMANCE.md); anything but 1–64 is ignored. */
const appendSlotsFromEnv = (env: Env): number => {
  const n = Number(env.ORBIT_APPEND_SLOTS);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : DEFAULT_APPEND_SLOTS;
};

/** 16 MiB: far above what a step should hand the next one, far below jsonb's and a reader's limits. */
export const DEFAULT_MAX_RESULT_BYTES = 16 * 1024 * 1024;

/** `ORBIT_MAX_RESULT_BYTES`: a whole number of bytes, at least 1. */
const maxResultBytesFromEnv = (env: Env): E.Either<InvalidInput, number> => {
  const v = env.ORBIT_MAX_RESULT_BYTES;
  if (v === undefined || v === '') return E.right(DEFAULT_MAX_RESULT_BYTES);
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isSafeInteger(n) && n >= 1
    ? E.right(n)
    : E.left({
        _tag: 'InvalidInput',
        what: 'ORBIT_MAX_RESULT_BYTES',
        message: `${JSON.stringify(v)} is not a whole number of bytes (at least 1)`,
      });
};

const positive = (what: string, n: number, min = 1): E.Either<InvalidInput, number> =>
  Number.isFinite(n) && n >= min
    ? E.right(n)
    : E.left({ _tag: 'InvalidInput', what, message: `${String(n)} is not a duration of at least ${min} ms` });

/** The settings of a client: options > environment > defaults. */
export const resolveSettings = (opts: SettingOptions, env: Env): E.Either<InvalidInput, ClientSettings> => {
  const threshold = opts.thresholdMs !== undefined ? E.right(opts.thresholdMs) : thresholdFromEnv(env);
  if (E.isLeft(threshold)) return threshold;
  const lease = opts.leaseMs !== undefined ? positive('leaseMs', opts.leaseMs, MIN_LEASE_MS) : leaseFromEnv(env);
  if (E.isLeft(lease)) return lease;
  const slots = opts.appendSlots ?? appendSlotsFromEnv(env);
  if (!(Number.isInteger(slots) && slots >= 1 && slots <= 64)) {
    return E.left({ _tag: 'InvalidInput', what: 'appendSlots', message: `${String(slots)} is not a whole number from 1 to 64` });
  }
  const budget =
    opts.retryBudgetMs !== undefined ? positive('retryBudgetMs', opts.retryBudgetMs, 0) : E.right(retryBudgetFromEnv(env));
  if (E.isLeft(budget)) return budget;
  const maxResult =
    opts.maxResultBytes === undefined
      ? maxResultBytesFromEnv(env)
      : Number.isSafeInteger(opts.maxResultBytes) && opts.maxResultBytes >= 1
        ? E.right(opts.maxResultBytes)
        : E.left<InvalidInput, number>({
            _tag: 'InvalidInput',
            what: 'maxResultBytes',
            message: `${String(opts.maxResultBytes)} is not a whole number of bytes (at least 1)`,
          });
  if (E.isLeft(maxResult)) return maxResult;
  return E.right({
    thresholdMs: threshold.right,
    leaseMs: lease.right,
    retryBudgetMs: budget.right,
    appendSlots: slots,
    maxResultBytes: maxResult.right,
    faultAfter: env.ORBIT_FAULT_AFTER !== '' ? env.ORBIT_FAULT_AFTER : undefined,
    logger: opts.logger ?? silentLogger,
    clock: opts.clock ?? systemClock,
  });
};
