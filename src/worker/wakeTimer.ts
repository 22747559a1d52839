import type { Clock } from '../util/clock';
import { MAX_TIMER_MS } from './workerOptions';

/**
 * One pending wake-up that only ever moves earlier: deadlines computed concurrently may finish out
 * of order, and an older computation may not yet know of a run taken since.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly wake: () => void,
  ) {}

  /** Wakes in `ms` (at most setTimeout's limit), unless a wake-up is already due sooner. */
  in(ms: number): void {
    const at = this.clock.now() + Math.min(ms, MAX_TIMER_MS);
    if (this.timer !== undefined && this.wakeAt !== undefined && this.wakeAt <= at) return;
    this.clear();
    this.wakeAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.wakeAt = undefined;
        this.wake();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeAt = undefined;
  }
}
