import type { Clock } from '../util/clock';

/**
 * The database's clock, as seen from this process. Every append returns the commit time; the
 * difference to the local clock at that moment is kept, so waits (a retry's `nextRetryAt`) are
 * measured against the database's time, never the worker's (see DESIGN "Liveness").
 */
export class DbClock {
  private offsetMs = 0;

  /** `local`: this process's clock (the client's), which the offset corrects. */
  constructor(private readonly local: Clock) {}

  /** Records a database timestamp observed just now. */
  observe(dbIso: string): void {
    this.offsetMs = Date.parse(dbIso) - this.local.now();
  }

  nowMs(): number {
    return this.local.now() + this.offsetMs;
  }

  /** Milliseconds until `iso` by the database's clock (0 if past). */
  msUntil(iso: string): number {
    return Math.max(0, Date.parse(iso) - this.nowMs());
  }
}
