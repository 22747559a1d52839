import { hostname } from 'node:os';
import type { Database } from '../db/database';
import { processIdentity } from './processIdentity';

/**
 * This process's lease: one row in `workers`, renewed every third of the lease on the database
 * clock (`lease_until = now() + lease`), naming exactly the runs the process still executes
 * (`held`). While it is valid, no recoverer takes those runs over, whatever its threshold. One
 * small UPDATE per renewal for the whole process, never a journal event.
 *
 * If a renewal does not succeed before the lease runs out (measured locally from the moment the
 * last successful renewal was sent, so never later than the database's own expiry), `onLost`
 * fires: the process may be partitioned and someone may take its runs over.
 */
export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly held = new Set<string>();
  private readonly identity = processIdentity();

  constructor(
    private readonly db: Database,
    private readonly workerId: string,
    readonly leaseMs: number,
    private readonly onLost: () => void,
    private readonly onRenewed: () => void = () => undefined,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Registers the row (awaited: nobody claims a run under a lease no one can see) and starts renewing. */
  async start(): Promise<void> {
    if (this.timer) return;
    await this.renew();
    // Rows of processes that died without stopping (kill -9) would pile up; an hour past its lease
    // a row protects nothing and proves nothing.
    await this.db.pool.query(`DELETE FROM ${this.db.qs}.workers WHERE lease_until < now() - interval '1 hour'`);
    this.timer = setInterval(() => void this.renew().catch(this.onError), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /**
   * Adds a run to the lease; resolves once the database has it (call before claiming the run).
   * Announced on the schema's channel (ids only), so that recovery workers can move their next
   * wake-up to this run's deadline instead of polling for new runs.
   */
  async add(runId: string): Promise<void> {
    this.held.add(runId);
    await this.renew(runId);
  }

  /** Drops a run from the lease at once (finished, released or given up on); best effort. */
  drop(runId: string): void {
    if (!this.held.delete(runId)) return;
    void this.renew().catch(this.onError);
  }

  /** One renewal; renewals are serialised so that a later one never writes an older `held`. */
  renew(taken: string | null = null): Promise<void> {
    const next = this.chain.then(async () => {
      const sentAt = Date.now();
      await this.db.pool.query({
        name: `orbit.lease:${this.db.schema}`,
        text: `WITH up AS (
                 INSERT INTO ${this.db.qs}.workers AS w (id, host, pid, identity, lease_until, held)
                 VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8 / 1000), $6)
                 ON CONFLICT (id) DO UPDATE
                   SET heartbeat_at = now(), lease_until = EXCLUDED.lease_until, held = EXCLUDED.held
                 RETURNING 1)
               SELECT pg_notify($7, json_build_object('run_id', $8::text, 'seq', 0, 'type', 'lease.taken')::text)
                 FROM up WHERE $8::text IS NOT NULL`,
        values: [this.workerId, hostname(), process.pid, this.identity, this.leaseMs, [...this.held], this.db.channel, taken],
      });
      this.arm(sentAt);
      this.onRenewed();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** The lease is valid until `sentAt + lease` at the latest (the database set it after we sent). */
  private arm(sentAt: number): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.onLost(), Math.max(0, sentAt + this.leaseMs - Date.now()));
    this.watchdog.unref();
  }

  /** Stops renewing and removes the row (a process that stopped cleanly has released its runs). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.timer = undefined;
    this.watchdog = undefined;
    await this.chain;
    await this.db.pool.query(`DELETE FROM ${this.db.qs}.workers WHERE id = $1`, [this.workerId]).catch(this.onError);
  }
}
