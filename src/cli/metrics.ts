import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/Either';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OrbitError } from '../api/internal/errors';
import type { StrandedRuns } from '../api/listStrandedRuns';
import type { WorkerEvent } from '../api/startWorker';
import { wokenRuns } from './wokenRuns';

/** Where the metrics read what the event stream does not carry. */
export interface WorkerMetricsSources {
  /** Queued runs waiting for a worker, read from the database on each scrape. */
  readonly queueDepth: () => Promise<E.Either<OrbitError, number>>;
  /** Queued runs no live worker can execute, read from the database on each scrape. */
  readonly stranded: () => Promise<E.Either<OrbitError, readonly StrandedRuns[]>>;
  /** Runs suspended in a sleep or a wait (they hold no worker), read from the database on each scrape. */
  readonly suspended: () => Promise<E.Either<OrbitError, { readonly sleeping: number; readonly waiting: number }>>;
}

/** Claim latency buckets (seconds): an idle worker claims in tens of milliseconds, a busy queue in minutes. */
const CLAIM_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Prometheus metrics of `orbit worker --metrics-port`: counters fed by the worker's own event
 * stream (the one `worker --json` prints), and the queue depth read from the database when
 * scraped; served on GET /metrics.
 */
export interface WorkerMetrics {
  readonly onEvent: (e: WorkerEvent) => void;
  /** Serves /metrics on host:port (port 0: any free port); resolves to the bound port. */
  readonly listen: (host: string, port: number) => Promise<number>;
  readonly close: () => Promise<void>;
}

export const createWorkerMetrics = (sources: WorkerMetricsSources): WorkerMetrics => {
  const registry = new Registry();
  const runsStarted = new Counter({
    name: 'orbit_worker_runs_started_total',
    help: 'Runs this worker started: queued runs claimed (source="queue"), interrupted runs it attempted to recover (source="recovery")',
    labelNames: ['source'],
    registers: [registry],
  });
  const queuedRunsEnded = new Counter({
    name: 'orbit_worker_queued_runs_ended_total',
    help: 'Queued runs executed here, by how they ended (success, failed, cancelled, released, sleeping, waiting, skipped, error)',
    labelNames: ['status'],
    registers: [registry],
  });
  const recoveries = new Counter({
    name: 'orbit_worker_recoveries_total',
    help: 'Recovery attempts by outcome (recovered, failed, skipped)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const wakeups = new Counter({
    name: 'orbit_worker_wakeups_total',
    help: 'Sleeping or waiting runs woken here (not recoveries: they were never interrupted), by outcome (recovered, failed, skipped)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const steps = new Counter({
    name: 'orbit_worker_steps_total',
    help: 'Step attempts finished here, by result (succeeded, failed)',
    labelNames: ['result'],
    registers: [registry],
  });
  const stepRetries = new Counter({
    name: 'orbit_worker_step_retries_total',
    help: 'Step attempts finished here that were not the first attempt of their step',
    registers: [registry],
  });
  const sweepFailures = new Counter({
    name: 'orbit_worker_sweep_failures_total',
    help: 'Sweeps (or queue claims) that failed',
    registers: [registry],
  });
  const listenLost = new Counter({
    name: 'orbit_worker_listen_lost_total',
    help: 'Times the LISTEN connection was lost',
    registers: [registry],
  });
  new Gauge({
    name: 'orbit_worker_queue_depth',
    help: 'Queued runs waiting for a worker (every worker of the schema), read from the database on each scrape; NaN when it cannot be read',
    registers: [registry],
    async collect() {
      const n = await sources.queueDepth();
      // An unreachable database must not fail the scrape: the counters are still this process's truth.
      this.set(E.isRight(n) ? n.right : Number.NaN);
    },
  });
  new Gauge({
    name: 'orbit_worker_stranded_runs',
    help: 'Queued runs no live worker can execute (no live worker has their pipeline at their definition), all workers of the schema, read on each scrape; NaN when it cannot be read',
    registers: [registry],
    async collect() {
      const s = await sources.stranded();
      this.set(E.isRight(s) ? s.right.reduce((n, x) => n + x.runs, 0) : Number.NaN);
    },
  });
  new Gauge({
    name: 'orbit_suspended_runs',
    help: 'Runs suspended in a sleep step (state="sleeping") or waiting for an event (state="waiting"), all workers of the schema, read on each scrape; they hold no worker and no lease; NaN when it cannot be read',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const s = await sources.suspended();
      this.set({ state: 'sleeping' }, E.isRight(s) ? s.right.sleeping : Number.NaN);
      this.set({ state: 'waiting' }, E.isRight(s) ? s.right.waiting : Number.NaN);
    },
  });
  const claimRounds = new Counter({
    name: 'orbit_worker_claim_rounds_total',
    help: 'Claim rounds on the queue (one query each) this worker made',
    registers: [registry],
  });
  const claimLatency = new Histogram({
    name: 'orbit_worker_claim_latency_seconds',
    help: 'Seconds from a run becoming available (source="queue": queued; source="released": released by its worker) to its claim by this worker, by the journal timestamps',
    labelNames: ['source'],
    buckets: CLAIM_LATENCY_BUCKETS,
    registers: [registry],
  });
  const leaseExpiries = new Counter({
    name: 'orbit_worker_lease_expiries_total',
    help: 'Expired leases: this worker\'s own, not renewed in time (event="lost"); runs it took over because their owner\'s lease had expired (event="taken_over")',
    labelNames: ['event'],
    registers: [registry],
  });
  // Every label the worker can report, at zero, so that a scrape shows the series before they move.
  for (const s of ['queue', 'recovery']) runsStarted.inc({ source: s }, 0);
  for (const s of ['success', 'failed', 'cancelled', 'released', 'sleeping', 'waiting', 'skipped', 'error'])
    queuedRunsEnded.inc({ status: s }, 0);
  for (const o of ['recovered', 'failed', 'skipped']) recoveries.inc({ outcome: o }, 0);
  for (const o of ['recovered', 'failed', 'skipped']) wakeups.inc({ outcome: o }, 0);
  for (const r of ['succeeded', 'failed']) steps.inc({ result: r }, 0);
  for (const ev of ['lost', 'taken_over']) leaseExpiries.inc({ event: ev }, 0);
  for (const src of ['queue', 'released']) claimLatency.zero({ source: src });

  // Runs being recovered whose owner's lease had expired: counted once the takeover is not skipped.
  const expiredOwner = new Set<string>();
  const woken = wokenRuns();
  const onEvent = (e: WorkerEvent): void => {
    const wake = woken(e);
    if (e.kind === 'claimed') runsStarted.inc({ source: 'queue' });
    else if (e.kind === 'claim-round') claimRounds.inc();
    else if (e.kind === 'attempt') {
      runsStarted.inc({ source: 'recovery' });
      // `stale`: no valid lease covered it (its owner's expired, or dropped it) and it was silent past the threshold.
      if (e.run.reason === 'stale' && e.run.owner !== null) expiredOwner.add(e.run.runId);
    } else if (e.kind === 'notified') runsStarted.inc({ source: 'recovery' });
    else if (e.kind === 'executed') queuedRunsEnded.inc({ status: e.status });
    else if (e.kind === 'outcome') {
      (wake ? wakeups : recoveries).inc({ outcome: e.outcome.outcome });
      if (expiredOwner.delete(e.outcome.runId) && e.outcome.outcome !== 'skipped') leaseExpiries.inc({ event: 'taken_over' });
    } else if (e.kind === 'claim-latency') claimLatency.observe({ source: e.source }, e.seconds);
    else if (e.kind === 'lease-lost') leaseExpiries.inc({ event: 'lost' });
    else if (e.kind === 'step') {
      steps.inc({ result: e.progress.kind === 'step.succeeded' ? 'succeeded' : 'failed' });
      if (e.progress.attempt > 1) stepRetries.inc();
    } else if (e.kind === 'sweep-failed') sweepFailures.inc();
    else if (e.kind === 'listen-lost') listenLost.inc();
  };

  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });

  const listen = (host: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return { onEvent, listen, close };
};
