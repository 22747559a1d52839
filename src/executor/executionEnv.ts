import { setMaxListeners } from 'node:events';
import * as E from 'fp-ts/Either';
import { fromPgError } from '../db/pgErrors';
import type { DbFailure } from '../errors';
import type { OrbitClient } from '../runtime/orbitClient';
import { DbClock } from './dbClock';
import { Lease } from '../lease/lease';
import { StrandedRuns } from '../lease/strandedRuns';
import { RunWatcher } from '../listen/runWatcher';

/**
 * Every step executing in this process listens on the one lease-lost signal, so a worker with
 * more than ten steps in flight is normal, not a listener leak (Node would warn at eleven).
 */
const leaseLostController = (): AbortController => {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
};

/**
 * What executing runs share within one process and one client: the lease, the LISTEN
 * connection and the database clock. Started when the first run starts; stopped a moment after
 * the last one ends, so a script that ran a pipeline can exit.
 */
export class ExecutionEnv {
  readonly clock: DbClock;
  readonly watcher: RunWatcher;
  /** Runs given up without a database, released once it answers again (src/lease/strandedRuns.ts). */
  readonly stranded: StrandedRuns;
  private readonly lease: Lease;
  /** Aborted when the lease could not be renewed in time; replaced once a renewal succeeds again. */
  private leaseLost = leaseLostController();
  private active = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private lifecycle: Promise<void> = Promise.resolve();
  private live = false;
  private started: Promise<DbFailure | undefined> = Promise.resolve(undefined);
  private readonly leaseLostListeners = new Set<() => void>();

  constructor(readonly client: OrbitClient) {
    this.clock = new DbClock(client.clock);
    this.lease = new Lease(
      client.db,
      client.workerId,
      client.leaseMs,
      () => {
        client.logger.warn(`lease of ${client.workerId} not renewed in time: its running steps are aborted`);
        this.leaseLost.abort(new Error('the lease could not be renewed in time; another process may take the run over'));
        for (const l of this.leaseLostListeners) l();
      },
      () => {
        if (this.leaseLost.signal.aborted) this.leaseLost = leaseLostController();
      },
      (err) => client.logger.warn(`lease renewal failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    this.stranded = new StrandedRuns(client, (runId) => this.lease.holds(runId));
    this.watcher = new RunWatcher(client.db);
    this.watcher.onConnection((e) =>
      e.kind === 'lost'
        ? client.logger.warn(`LISTEN connection lost (${e.reason}); reconnecting`)
        : client.logger.info(`LISTEN connection restored after ${e.downMs} ms`),
    );
  }

  /**
   * The executor's hard-stop signal for a run: the caller's, or the loss of the lease. A process
   * that cannot renew its lease stops starting steps and aborts the running ones: it may be
   * partitioned, and another process may take the run over.
   */
  withLease(abortSignal: AbortSignal | undefined): AbortSignal {
    return abortSignal === undefined ? this.leaseLost.signal : AbortSignal.any([abortSignal, this.leaseLost.signal]);
  }

  /** Whether `runId` is executing in this process (its lease covers it). */
  holds(runId: string): boolean {
    return this.lease.holds(runId);
  }

  /** Calls `listener` each time this process's lease runs out unrenewed (metrics, logs); returns the unsubscribe. */
  onLeaseLost(listener: () => void): () => void {
    this.leaseLostListeners.add(listener);
    return () => this.leaseLostListeners.delete(listener);
  }

  /**
   * Call before executing (claiming) `runId`; pair with `release(runId)` (also after a Left).
   * Resolves once the lease row covers the run, so there is no moment where the run is claimed
   * and unprotected. Start and stop are serialised on one chain, so a run starting while the
   * previous one's shutdown is under way gets a fresh lease and listener rather than half-closed ones.
   */
  async acquire(runId: string): Promise<E.Either<DbFailure, void>> {
    this.active += 1;
    this.stranded.forget(runId);
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (!this.live) {
      this.live = true;
      // Every run waiting on this start attempt learns its outcome (not just the first reader).
      this.started = this.lifecycle.then(async (): Promise<DbFailure | undefined> => {
        try {
          await this.lease.start();
          return undefined;
        } catch (err) {
          this.live = false;
          return fromPgError(err);
        }
      });
      this.lifecycle = this.started.then(() => undefined);
    }
    const failed = await this.started;
    if (failed !== undefined) return E.left(failed);
    try {
      await this.lease.add(runId);
      return E.right(undefined);
    } catch (err) {
      return E.left(fromPgError(err));
    }
  }

  /** The run is no longer executed here: it leaves the lease at once. */
  release(runId: string): void {
    this.lease.drop(runId);
    this.active -= 1;
    if (this.active > 0) return;
    this.idleTimer = setTimeout(() => void this.shutdown(), 250);
    this.idleTimer.unref();
  }

  /** Stops the lease (removing this worker's row) and the listener, unless runs are active. */
  shutdown(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.active > 0 || !this.live) return;
      this.live = false;
      await this.lease.stop();
      await this.watcher.close();
    });
    return this.lifecycle;
  }
}

const envs = new WeakMap<OrbitClient, ExecutionEnv>();

export const executionEnvFor = (client: OrbitClient): ExecutionEnv => {
  let env = envs.get(client);
  if (!env) {
    const created = new ExecutionEnv(client);
    client.onClose(() => {
      created.stranded.stop();
      return created.shutdown();
    });
    envs.set(client, created);
    env = created;
  }
  return env;
};
