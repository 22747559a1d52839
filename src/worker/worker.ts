import * as E from 'fp-ts/Either';
import { fromPgError } from '../db/pgErrors';
import type { DbFailure } from '../errors';
import { executionEnvFor } from '../executor/executionEnv';
import { handBackLostRuns } from '../executor/handBackLostRuns';
import { RunWatcher, type RunNotification } from '../listen/runWatcher';
import { countQueuedRuns } from '../queries/countQueuedRuns';
import { ClaimMeter } from './claimMeter';
import { QueueConsumer } from './queueConsumer';
import { RecoveryLoop } from './recoveryLoop';
import { Scheduler } from './scheduler';
import { WorkerRegistration } from './registration';
import { Slots } from './slots';
import { readStrandedRuns } from './readStrandedRuns';
import type { StrandedRuns } from './strandedRuns';
import { StrandedWatch } from './strandedWatch';
import type { WorkerEvent } from './workerEvent';
import { MAX_TIMER_MS, type WorkerOptions } from './workerOptions';

/**
 * `orbit worker` (and `startWorker`): executes queued runs and recovers interrupted ones, never
 * waiting for cron nor for its own busy runs. It LISTENs on the schema's channel: a queued run is
 * claimed at once (QueueConsumer), a released one resumed at once, and runs whose worker died
 * silently are swept at the earliest moment one can become interrupted (RecoveryLoop). The LISTEN
 * connection is re-established forever, each return followed by an immediate sweep and claim. Any
 * number of workers may run: every claim is optimistic, so each run is taken by exactly one.
 */
export class Worker {
  private readonly watcher: RunWatcher;
  private readonly slots: Slots;
  private readonly consumer: QueueConsumer;
  private readonly loop: RecoveryLoop;
  private readonly meter: ClaimMeter;
  private readonly registration: WorkerRegistration;
  private readonly stranded: StrandedWatch;
  private readonly scheduler: Scheduler;
  private stopped = false;
  private listenDown = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(private readonly options: WorkerOptions) {
    this.watcher = new RunWatcher(options.client.db, 'worker');
    const emit = (e: WorkerEvent) => options.onEvent?.(e);
    this.meter = new ClaimMeter(options.client, emit);
    this.stranded = new StrandedWatch(options.client, emit);
    const concurrency = Math.max(1, options.concurrency ?? 4);
    this.registration = new WorkerRegistration(options.client, concurrency, (failure) => emit({ kind: 'registration', failure }));
    this.slots = new Slots(concurrency, () => {
      if (this.loop.owed) this.loop.sweepNow();
      if (this.consumer.owed) this.consumer.claimNow();
    });
    const context = {
      options,
      slots: this.slots,
      emit,
      onClaimed: options.measureClaims === true ? (runId: string) => this.meter.measure(runId) : undefined,
      stopping: () => this.stopped || options.stopSignal?.aborted === true,
      listenDown: () => this.listenDown,
    };
    this.consumer = new QueueConsumer(context);
    this.scheduler = new Scheduler(context);
    this.loop = new RecoveryLoop(context, () => {
      this.loop.sweepNow();
      this.consumer.claimNow();
    });
  }

  /** The longest wait between sweeps; null: no periodic sweep (the default). */
  get sweepIntervalMs(): number | null {
    return this.options.sweepIntervalMs ?? null;
  }

  private emit(e: WorkerEvent): void {
    this.options.onEvent?.(e);
  }

  /** Starts listening, then sweeps and claims once; later wake-ups come from NOTIFY and the database's deadlines. */
  async start(): Promise<E.Either<DbFailure, void>> {
    // A worker runs until stop(). Its LISTEN socket is what keeps the process alive; while that is
    // being re-established (backoff timers do not hold a process) and no deadline timer is armed,
    // nothing else would, and the process would exit mid-reconnect.
    const keepAlive = setInterval(() => undefined, MAX_TIMER_MS);
    this.cleanups.push(() => clearInterval(keepAlive));
    this.cleanups.push(executionEnvFor(this.options.client).onLeaseLost(() => this.emit({ kind: 'lease-lost' })));
    this.cleanups.push(
      this.watcher.onConnection((e) => {
        this.listenDown = e.kind === 'lost';
        if (e.kind === 'lost') this.emit({ kind: 'listen-lost', reason: e.reason });
        else {
          this.emit({ kind: 'listen-restored', downMs: e.downMs });
          // A failover may have lost the ends of runs this worker finished: hand them back (resumed at once).
          void handBackLostRuns(this.options.client);
          // Notifications sent while it was down are gone: look for what they announced.
          this.loop.sweepNow();
          this.consumer.retryNow();
          this.scheduler.reload();
        }
      }),
    );
    try {
      this.cleanups.push(await this.watcher.watchAll((n) => this.onNotification(n)));
    } catch (err) {
      for (const c of this.cleanups.splice(0)) c();
      return E.left(fromPgError(err));
    }
    // Listed (idle or not) before it claims anything; a registry it cannot write is reported, not fatal.
    await this.registration.start();
    this.loop.sweepNow();
    this.consumer.claimNow();
    // Registered first, so that its own pipelines do not count as stranded.
    this.stranded.now();
    this.scheduler.reload();
    return E.right(undefined);
  }

  /** Queued runs waiting for a worker, now (for the queue-depth gauge). */
  queueDepth(): Promise<E.Either<DbFailure, number>> {
    return countQueuedRuns(this.options.client.db);
  }

  /** Queued runs no live worker can execute (for the stranded-runs gauge). */
  strandedRuns(): Promise<E.Either<DbFailure, StrandedRuns[]>> {
    return readStrandedRuns(this.options.client.db);
  }

  private onNotification(n: RunNotification): void {
    if (this.stopped) return;
    if (n.type === 'lease.taken' || n.type === 'run.suspended') this.loop.rescheduleSoon(n.run_id);
    // An event may have made a waiting run due (it stays suspended; its step is due now): look now.
    else if (n.type === 'event.received') this.loop.wakeNow();
    else if (n.type === 'run.queued') {
      this.consumer.claimNow();
      // It may be a delayed run: its due time may be the next wake-up.
      this.loop.rescheduleSoon(n.run_id);
      this.stranded.soon();
    }
    // Released runs need no threshold: their worker handed them back on purpose.
    else if (n.type === 'run.released') this.loop.released(n.run_id, n.type);
    else if (n.type === 'schedule.changed') this.scheduler.reload();
  }

  /** Stops listening, sweeping and claiming, and waits for the runs it is executing to finish or be released. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.watcher.close();
    await Promise.allSettled([this.loop.stop(), this.consumer.stop(), this.stranded.stop(), this.scheduler.stop()]);
    await this.slots.drain();
    await this.meter.drain();
    await this.registration.stop();
    for (const c of this.cleanups.splice(0)) c();
  }
}
