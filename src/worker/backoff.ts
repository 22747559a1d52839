import { RETRY_MS } from './workerOptions';

/** The longest a worker waits before trying again what keeps failing (a claim, a sweep, one run's recovery). */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Exponential backoff for something that fails again and again (a missing GRANT, a pipeline this
 * worker cannot execute, an unreachable database): 1 s, 2 s, 4 s … up to 30 s between attempts, so
 * a worker never spins on a failure nor floods its log with it (issue 20 item 2). A success resets it.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly firstMs: number = RETRY_MS,
    private readonly maxMs: number = MAX_BACKOFF_MS,
  ) {}

  /** Failures since the last success. */
  get count(): number {
    return this.failures;
  }

  /** Records a failure; returns how long to wait before the next attempt. */
  failed(): number {
    this.failures += 1;
    return Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.failures - 1, 16));
  }

  succeeded(): void {
    this.failures = 0;
  }
}
