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
  private starting: Promise<void> | undefined;

  constructor(readonly client: OrbitClient) {
    this.heartbeat = new Heartbeat(client.db, client.workerId, heartbeatIntervalFor(client.thresholdMs));
    this.watcher = new RunWatcher(client.db);
  }

  /** Call before executing a run; pair with `release`. */
  async acquire(): Promise<void> {
    this.active += 1;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    this.starting ??= this.heartbeat.start();
    await this.starting;
  }

  release(): void {
    this.active -= 1;
    if (this.active > 0) return;
    this.idleTimer = setTimeout(() => void this.shutdown(), 250);
    this.idleTimer.unref();
  }

  /** Stops the heartbeat (removing this worker's row) and the listener. */
  async shutdown(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.active > 0) return;
    const started = this.starting;
    this.starting = undefined;
    if (started) {
      await started.catch(() => undefined);
      await this.heartbeat.stop();
    }
    await this.watcher.close();
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
