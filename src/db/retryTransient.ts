import { sleep } from '../util/sleep';
import { isTransient } from './pgErrors';

/**
 * How long (ms) a statement keeps being retried through transient failures before the caller
 * gets the error: long enough to ride out a fast restart or a failover of PostgreSQL, short
 * enough that a process whose database is gone for good releases its runs and says so.
 * `ORBIT_RETRY_BUDGET_MS` overrides it (tests use a short one).
 */
export const DEFAULT_RETRY_BUDGET_MS = 30_000;

export const retryBudgetMs = (env: NodeJS.ProcessEnv = process.env): number => {
  const v = env.ORBIT_RETRY_BUDGET_MS;
  const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : DEFAULT_RETRY_BUDGET_MS;
};

export interface RetryOptions {
  /** Give up once this much time (ms) has passed. Default `retryBudgetMs()`. */
  readonly budgetMs?: number;
  /** Which failures to retry. Default `isTransient`. */
  readonly retryable?: (err: unknown) => boolean;
}

/**
 * Runs `attempt` until it resolves, retrying transient failures with exponential backoff
 * (50 ms doubling to 2 s, with jitter so a fleet of workers does not reconnect in lockstep)
 * until the budget is spent; then, or on any other failure, rethrows the last error.
 * Only for work that is safe to repeat: reads, and appends (they carry their event ids).
 */
export const retryTransient = async <A>(attempt: () => Promise<A>, opts: RetryOptions = {}): Promise<A> => {
  const retryable = opts.retryable ?? isTransient;
  const started = Date.now();
  // Read on the first failure only: process.env is slow to read, and every append comes through here.
  let deadline: number | undefined;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      deadline ??= started + (opts.budgetMs ?? retryBudgetMs());
      const delay = Math.min(2_000, 50 * 2 ** i) * (0.5 + Math.random() / 2);
      if (!retryable(err) || Date.now() + delay > deadline) throw err;
      await sleep(delay);
    }
  }
};
