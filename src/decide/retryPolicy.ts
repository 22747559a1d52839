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

/**
 * The wait after failed attempt `attempt` (1-based): initialDelayMs * backoffFactor^(attempt-1),
 * spread by ±jitter, and never more than maxDelayMs. `random` is injectable for tests.
 */
export const retryDelayMs = (policy: RetryPolicy, attempt: number, random: () => number = Math.random): number => {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffFactor ** Math.max(0, attempt - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const spread = base * jitter * (2 * random() - 1);
  return Math.min(policy.maxDelayMs, MAX_RETRY_DELAY_MS, Math.max(0, Math.round(base + spread)));
};

/** Whether attempt `attempt` may be followed by another. */
export const mayRetry = (policy: RetryPolicy, attempt: number): boolean => attempt < policy.maxAttempts;
