import { MAX_RETRY_DELAY_MS } from '../events/runEvents';
import type { Pipeline, RetryPolicy, StepDefinition } from '../pipeline/types';

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 1,
  initialDelayMs: 1000,
  backoffFactor: 2,
  maxDelayMs: 60_000,
  jitter: 0,
};

/** Drops fields set to `undefined`, so `{ backoffFactor: undefined }` means "the default". */
const defined = (p: Partial<RetryPolicy> | undefined): Partial<RetryPolicy> =>
  Object.fromEntries(Object.entries(p ?? {}).filter(([, v]) => v !== undefined));

/** Defaults, then the pipeline's policy, then the step's own. */
export const policyFor = (pipeline: Pipeline, step: StepDefinition): RetryPolicy => ({
  ...DEFAULT_RETRY,
  ...defined(pipeline.retry),
  ...defined(step.retry),
});

/** A policy number that is usable as a delay or factor: finite and not negative, else `fallback`. */
const usable = (n: number, fallback: number): number => (Number.isFinite(n) && n >= 0 ? n : fallback);

/**
 * The wait after failed attempt `attempt` (1-based): initialDelayMs * backoffFactor^(attempt-1),
 * spread by ±jitter, and never more than maxDelayMs. `random` is injectable for tests. Always a
 * whole number of milliseconds from 0 to the cap, whatever the attempt count: at attempt 1,025 a
 * factor of 2 overflows to Infinity (and 0 × Infinity is NaN), which would make the retry
 * unjournalable and leave the run `running`.
 */
export const retryDelayMs = (policy: RetryPolicy, attempt: number, random: () => number = Math.random): number => {
  const cap = Math.floor(Math.min(usable(policy.maxDelayMs, MAX_RETRY_DELAY_MS), MAX_RETRY_DELAY_MS));
  const initial = usable(policy.initialDelayMs, 0);
  const growth = initial === 0 ? 0 : initial * usable(policy.backoffFactor, 1) ** Math.max(0, attempt - 1);
  const base = Number.isFinite(growth) ? Math.min(cap, growth) : cap;
  const jitter = Math.min(1, Math.max(0, usable(policy.jitter, 0)));
  const r = random();
  const spread = Number.isFinite(r) ? base * jitter * (2 * Math.min(1, Math.max(0, r)) - 1) : 0;
  return Math.min(cap, Math.max(0, Math.round(base + spread)));
};

/** Whether attempt `attempt` may be followed by another. */
export const mayRetry = (policy: RetryPolicy, attempt: number): boolean => attempt < policy.maxAttempts;
