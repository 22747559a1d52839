import { hostname } from 'node:os';
import * as E from 'fp-ts/Either';
import type { DbFailure } from '../errors';
import { deleteWorkerRegistration } from '../queries/deleteWorkerRegistration';
import { heartbeatWorker } from '../queries/heartbeatWorker';
import { executableDefinitions } from '../executor/queue';
import { processIdentity } from '../lease/processIdentity';
import type { OrbitClient } from '../runtime/orbitClient';

/**
 * The worker's row in `worker_registry`, renewed every third of the client's lease while the
 * worker runs, busy or idle: what `orbit workers` lists, and what tells which queued runs no live
 * worker can execute. Apart from the lease (src/lease), which covers only the runs a process holds.
 */
export class WorkerRegistration {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** The last renewal failed: only its first failure and its recovery are reported. */
  private failing = false;
  /** So that an idle worker killed with kill -9 is provably gone (listWorkers), as a lease holder is. */
  private readonly identity = processIdentity();

  constructor(
    private readonly client: OrbitClient,
    private readonly concurrency: number,
    private readonly onChange: (failure: DbFailure | null) => void,
  ) {}

  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.client.leaseMs / 3)));
    this.timer.unref();
  }

  private renew(): Promise<unknown> {
    const { client } = this;
    this.chain = this.chain.then(async () => {
      const r = await heartbeatWorker(client.db, {
        id: client.workerId,
        host: hostname(),
        pid: process.pid,
        identity: this.identity,
        aliveMs: client.leaseMs,
        concurrency: this.concurrency,
        pipelines: executableDefinitions(client),
      });
      if (E.isLeft(r) !== this.failing) {
        this.failing = E.isLeft(r);
        this.onChange(E.isLeft(r) ? r.left : null);
      }
    });
    return this.chain;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
    await deleteWorkerRegistration(this.client.db, this.client.workerId);
  }
}
