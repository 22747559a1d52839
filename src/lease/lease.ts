import { hostname } from 'node:os';
import type { Database } from '../db/database';
import { retryTransient } from '../db/retryTransient';
import { deleteExpiredWorkers } from '../queries/deleteExpiredWorkers';
import { deleteWorker } from '../queries/deleteWorker';
import { renewLease } from '../queries/renewLease';
import { processIdentity } from './processIdentity';

/** How long a renewal sent after the lease ran out may take before the lease counts as lost. */
const LATE_RENEWAL_GRACE_MS = 1_000;

/**
 * This process's lease: one row in `workers`, renewed every third of the lease on the database
 * clock (`lease_until = now() + lease`), naming exactly the runs the process still executes
 * (`held`). While it is valid, no recoverer takes those runs over, whatever its threshold. One
 * small UPDATE per renewal for the whole process, never a journal event.
 *
 * If a renewal does not succeed before the lease runs out (measured locally from the moment the
 * last successful renewal was sent, so never later than the database's own expiry), one more is
 * tried at once; unless it succeeds within a short grace, `onLost` fires: the process may be
 * partitioned and someone may take its runs over.
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

  /**
   * Registers the row (awaited: nobody claims a run under a lease no one can see) and starts
   * renewing. Both statements are safe to repeat, so a transient failure (a lock_timeout on the
   * NOTIFY queue's lock, a dropped connection) is retried within the retry budget.
   */
  async start(): Promise<void> {
    if (this.timer) return;
    await retryTransient(this.db, () => this.renew());
    await retryTransient(this.db, () => deleteExpiredWorkers(this.db));
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
    await retryTransient(this.db, () => this.renew(runId));
  }

  /** Whether the lease covers `runId` (this process executes it). */
  holds(runId: string): boolean {
    return this.held.has(runId);
  }

  /** Drops a run from the lease at once (finished, released or given up on); best effort. */
  drop(runId: string): void {
    if (!this.held.delete(runId)) return;
    void this.renew().catch(this.onError);
  }

  /** One renewal; renewals are serialised so that a later one never writes an older `held`. */
  renew(taken: string | null = null): Promise<void> {
    const next = this.chain.then(async () => {
      const sentAt = this.db.clock.now();
      await renewLease(this.db, {
        workerId: this.workerId,
        host: hostname(),
        pid: process.pid,
        identity: this.identity,
        leaseMs: this.leaseMs,
        held: [...this.held],
        taken,
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
    this.watchdog = setTimeout(() => this.expired(), Math.max(0, sentAt + this.leaseMs - this.db.clock.now()));
    this.watchdog.unref();
  }

  /**
   * The lease ran out unrenewed. Either the database could not be reached, or this process could
   * not run at all (a step that kept the event loop busy, a paused machine): then a renewal sent
   * now succeeds at once, and the lease goes on, runs and step results kept. Whether someone took
   * a run over meanwhile is the seq fence's to say (our next append to it is refused), not the
   * lease's. Only a renewal that fails, or is still unanswered after a short grace, loses the lease.
   */
  private expired(): void {
    let settled = false;
    const lost = () => {
      if (settled) return;
      settled = true;
      this.onLost();
    };
    const grace = setTimeout(lost, Math.min(LATE_RENEWAL_GRACE_MS, this.leaseMs / 4));
    grace.unref();
    this.renew().then(
      () => {
        settled = true;
        clearTimeout(grace);
      },
      (err: unknown) => {
        clearTimeout(grace);
        this.onError(err);
        lost();
      },
    );
  }

  /** Stops renewing and removes the row (a process that stopped cleanly has released its runs). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.timer = undefined;
    this.watchdog = undefined;
    await this.chain;
    await deleteWorker(this.db, this.workerId).catch(this.onError);
  }
}
