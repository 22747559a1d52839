import * as E from 'fp-ts/Either';
import { fromPgError } from '../db/pgErrors';
import type { OrbitError } from '../errors';
import type { OrbitClient } from '../runtime/orbitClient';
import { DbClock } from './dbClock';
import { Heartbeat, heartbeatIntervalFor } from './heartbeat';
import { RunWatcher } from './runWatcher';

/**
 * What executing runs share within one process and one client: the heartbeat, the LISTEN
 * connection and the database clock. Started when the first run starts; stopped a moment after
 * the last one ends, so a script that ran a pipeline can exit.
 */
export class ExecutionEnv {
  readonly clock = new DbClock();
  readonly watcher: RunWatcher;
  private readonly heartbeat: Heartbeat;
  private active = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private lifecycle: Promise<void> = Promise.resolve();
  private live = false;
  private started: Promise<OrbitError | undefined> = Promise.resolve(undefined);

  constructor(readonly client: OrbitClient) {
    this.heartbeat = new Heartbeat(client.db, client.workerId, heartbeatIntervalFor(client.thresholdMs));
    this.watcher = new RunWatcher(client.db);
  }

  /**
   * Call before executing a run; pair with `release` (also after a Left). Start and stop are
   * serialised on one chain, so a run starting while the previous one's shutdown is under way
   * gets a fresh heartbeat and listener rather than half-closed ones.
   */
  async acquire(): Promise<E.Either<OrbitError, void>> {
    this.active += 1;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (!this.live) {
      this.live = true;
      // Every run waiting on this start attempt learns its outcome (not just the first reader).
      this.started = this.lifecycle.then(async (): Promise<OrbitError | undefined> => {
        try {
          await this.heartbeat.start();
          return undefined;
        } catch (err) {
          this.live = false;
          return fromPgError(err);
        }
      });
      this.lifecycle = this.started.then(() => undefined);
    }
    const failed = await this.started;
    return failed === undefined ? E.right(undefined) : E.left(failed);
  }

  release(): void {
    this.active -= 1;
    if (this.active > 0) return;
    this.idleTimer = setTimeout(() => void this.shutdown(), 250);
    this.idleTimer.unref();
  }

  /** Stops the heartbeat (removing this worker's row) and the listener, unless runs are active. */
  shutdown(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.active > 0 || !this.live) return;
      this.live = false;
      await this.heartbeat.stop();
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
    client.onClose(() => created.shutdown());
    envs.set(client, created);
    env = created;
  }
  return env;
};
