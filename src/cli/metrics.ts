import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import type { WorkerEvent } from '../recovery/recoveryWorker';

/**
 * Prometheus metrics of `orbit worker --metrics-port`: counters fed by the worker's own event
 * stream (the one `worker --json` prints), served on GET /metrics.
 */
export interface WorkerMetrics {
  readonly onEvent: (e: WorkerEvent) => void;
  /** Serves /metrics on host:port (port 0: any free port); resolves to the bound port. */
  readonly listen: (host: string, port: number) => Promise<number>;
  readonly close: () => Promise<void>;
}

export const createWorkerMetrics = (): WorkerMetrics => {
  const registry = new Registry();
  const runsStarted = new Counter({
    name: 'orbit_worker_runs_started_total',
    help: 'Runs this worker started: queued runs claimed (source="queue"), interrupted runs it attempted to recover (source="recovery")',
    labelNames: ['source'],
    registers: [registry],
  });
  const queuedRunsEnded = new Counter({
    name: 'orbit_worker_queued_runs_ended_total',
    help: 'Queued runs executed here, by how they ended (success, failed, cancelled, released, skipped, error)',
    labelNames: ['status'],
    registers: [registry],
  });
  const recoveries = new Counter({
    name: 'orbit_worker_recoveries_total',
    help: 'Recovery attempts by outcome (recovered, failed, skipped)',
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
  // Every label the worker can report, at zero, so that a scrape shows the series before they move.
  for (const s of ['queue', 'recovery']) runsStarted.inc({ source: s }, 0);
  for (const s of ['success', 'failed', 'cancelled', 'released', 'skipped', 'error']) queuedRunsEnded.inc({ status: s }, 0);
  for (const o of ['recovered', 'failed', 'skipped']) recoveries.inc({ outcome: o }, 0);
  for (const r of ['succeeded', 'failed']) steps.inc({ result: r }, 0);

  const onEvent = (e: WorkerEvent): void => {
    if (e.kind === 'claimed') runsStarted.inc({ source: 'queue' });
    else if (e.kind === 'attempt') runsStarted.inc({ source: 'recovery' });
    else if (e.kind === 'executed') queuedRunsEnded.inc({ status: e.status });
    else if (e.kind === 'outcome') recoveries.inc({ outcome: e.outcome.outcome });
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
