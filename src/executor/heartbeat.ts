import { hostname } from 'node:os';
import type { Database } from '../db/database';

/**
 * The heartbeat interval for a threshold: four beats per threshold, at least every 10 s. The cap
 * keeps a live worker visibly alive to a checker that uses a shorter threshold than the worker
 * (e.g. `check-interrupted --threshold 1m` against workers on the default 10 m); one small UPDATE
 * per process every 10 s costs nothing.
 */
export const heartbeatIntervalFor = (thresholdMs: number): number => Math.min(10_000, Math.max(50, Math.floor(thresholdMs / 4)));

/**
 * Keeps this process's row in `workers` fresh while it executes runs. One small UPDATE per
 * interval for the whole process, however many runs it holds; never a journal event. Detection
 * treats a run whose owner has a fresh heartbeat as alive, however long its current step takes.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly workerId: string,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Registers the worker (awaited: a run is never claimed by a worker nobody can see) and starts beating. */
  async start(): Promise<void> {
    if (this.timer) return;
    await this.beat();
    // Rows of workers that died without stopping (kill -9) would pile up; a row not renewed for an
    // hour belongs to a dead process (live ones renew at least every 10 s).
    await this.db.pool.query(`DELETE FROM ${this.db.qs}.workers WHERE heartbeat_at < now() - interval '1 hour'`);
    this.timer = setInterval(() => {
      this.beating = this.beat().catch(this.onError);
    }, this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.db.pool.query({
      name: `orbit.heartbeat:${this.db.schema}`,
      text: `INSERT INTO ${this.db.qs}.workers (id, host, pid) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
      values: [this.workerId, hostname(), process.pid],
    });
  }

  /** Stops beating and removes the row (a worker that stopped cleanly has released its runs). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating.catch(() => undefined);
    await this.db.pool.query(`DELETE FROM ${this.db.qs}.workers WHERE id = $1`, [this.workerId]).catch(this.onError);
  }
}
