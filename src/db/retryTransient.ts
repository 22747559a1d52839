import type { Clock } from '../util/clock';
import { sleep } from '../util/sleep';
import { isTransient } from './pgErrors';

/** The budget and the clock to measure it by: the client's (`connect({ retryBudgetMs, clock })`, `ORBIT_RETRY_BUDGET_MS`). */
export interface RetryBudget {
  /** Give up once this much time (ms) has passed. */
  readonly retryBudgetMs: number;
  readonly clock: Clock;
}

/**
 * Runs `attempt` until it resolves, retrying transient failures with exponential backoff
 * (50 ms doubling to 2 s, with jitter so a fleet of workers does not reconnect in lockstep)
 * until the budget is spent; then, or on any other failure, rethrows the last error.
 * Only for work that is safe to repeat: reads, and appends (they carry their event ids).
 */
export const retryTransient = async <A>(
  budget: RetryBudget,
  attempt: () => Promise<A>,
  retryable: (err: unknown) => boolean = isTransient,
): Promise<A> => {
  const deadline = budget.clock.now() + budget.retryBudgetMs;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const delay = Math.min(2_000, 50 * 2 ** i) * (0.5 + Math.random() / 2);
      if (!retryable(err) || budget.clock.now() + delay > deadline) throw err;
      await sleep(delay);
    }
  }
};
