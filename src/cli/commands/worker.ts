import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { createWorkerMetrics, type WorkerMetrics } from '../metrics';
import { printRecoveryEvent } from '../recoveryReport';
import { MAX_CONCURRENCY, MAX_LIMIT, parseCount, refuseUsage } from '../options';
import { runCommand, type GlobalArgs } from '../session';
import { installStopSignals } from '../signals';
import { isolatedResume } from './resume';
import { wokenRuns } from '../wokenRuns';
import { countRuns } from '../../api/countRuns';
import { formatDuration, parseDuration } from '../../api/internal/durations';
import { formatError, OrbitErrors, type OrbitError } from '../../api/internal/errors';
import { describeStranded, notifyChannel, reserveTakeover, Worker } from '../../api/internal/worker';

interface WorkerArgs extends GlobalArgs {
  readonly sweepInterval?: string;
  readonly grace: string;
  readonly concurrency: string;
  readonly pipelineConcurrency?: string;
  readonly verbose: boolean;
  readonly metricsPort?: string;
  readonly metricsHost?: string;
}

/** `--pipeline-concurrency name=N[,name=N…]`: per-pipeline limits (each N from 1 to MAX_LIMIT). */
const parsePipelineConcurrency = (text: string | undefined): E.Either<OrbitError, Record<string, number>> => {
  const limits: Record<string, number> = {};
  if (text === undefined) return E.right(limits);
  for (const part of String(text).split(',')) {
    const m = /^\s*([A-Za-z0-9._:-]{1,128})\s*=\s*(\S+)\s*$/.exec(part);
    if (m === null)
      return E.left(
        OrbitErrors.invalidInput('--pipeline-concurrency', `${JSON.stringify(part)} is not name=N (e.g. data-pipeline=2)`),
      );
    const n = parseCount(m[2], `--pipeline-concurrency ${m[1] as string}`, MAX_LIMIT);
    if (E.isLeft(n)) return n;
    limits[m[1] as string] = n.right;
  }
  return E.right(limits);
};

export const workerCommand: CommandModule<GlobalArgs, WorkerArgs> = {
  command: 'worker',
  describe:
    'Execute queued runs (orbit run --queue) and keep recovering: resume released runs the moment they are released (LISTEN/NOTIFY), and crashed ones as soon as the liveness rule allows',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('sweep-interval', {
        type: 'string',
        describe:
          'Also sweep at least this often (default: never; the worker wakes on NOTIFY and when the database says a run can next become interrupted, so this is only for the paranoid)',
      })
      .option('grace', {
        type: 'string',
        default: '30s',
        describe: 'On SIGINT/SIGTERM: how long running steps may take to finish before they are aborted and their runs released',
      })
      .option('concurrency', {
        type: 'string',
        default: '4',
        describe: `Runs executed or recovered at the same time (1 to ${MAX_CONCURRENCY})`,
      })
      .option('pipeline-concurrency', {
        type: 'string',
        describe:
          "Per-pipeline limits over the pipelines' own `concurrency`: name=N[,name=N…], at most N runs of that pipeline executing at once across all workers; each name must be a pipeline --pipelines registers",
      })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Print each step as it finishes' })
      .option('metrics-port', {
        type: 'string',
        describe: 'Serve Prometheus metrics on http://<metrics-host>:<port>/metrics (0: any free port, printed at start)',
      })
      .option('metrics-host', {
        type: 'string',
        describe: 'Address the metrics endpoint listens on, with --metrics-port (default 127.0.0.1)',
      })
      .example(
        '$0 worker --concurrency 8 --pipeline-concurrency data-pipeline=2',
        'Eight runs at once, but never more than two data-pipeline runs at once, counting every worker',
      )
      .example(
        '$0 worker --threshold 30s',
        'Recover continuously; a run whose worker died elsewhere is resumed about 30 s after its last sign of life',
      ),
  handler: (args) => {
    const concurrency = parseCount(args.concurrency, '--concurrency', MAX_CONCURRENCY);
    if (E.isLeft(concurrency)) return refuseUsage(args, concurrency.left);
    const pipelineConcurrency = parsePipelineConcurrency(args.pipelineConcurrency);
    if (E.isLeft(pipelineConcurrency)) return refuseUsage(args, pipelineConcurrency.left);
    let sweepIntervalMs: number | undefined;
    if (args.sweepInterval !== undefined) {
      const d = parseDuration(args.sweepInterval, '--sweep-interval');
      if (E.isLeft(d)) return refuseUsage(args, d.left);
      sweepIntervalMs = d.right;
    }
    const grace = parseDuration(args.grace, '--grace');
    if (E.isLeft(grace)) return refuseUsage(args, grace.left);
    let metricsPort: number | undefined;
    if (args.metricsPort !== undefined) {
      const text = String(args.metricsPort).trim();
      if (!/^\d+$/.test(text) || Number(text) > 65535)
        return refuseUsage(
          args,
          OrbitErrors.invalidInput('--metrics-port', `${JSON.stringify(text)} is not a port (use 0 to 65535; 0: any free port)`),
        );
      metricsPort = Number(text);
    }
    const metricsHost = args.metricsHost ?? '127.0.0.1';
    return runCommand(args, { pipelines: true }, async (session) => {
      const { client, out } = session;
      // A limit for a pipeline this worker does not have is a typo: it would limit nothing.
      const unknown = Object.keys(pipelineConcurrency.right).find((name) => E.isLeft(client.registry.getPipeline(name)));
      if (unknown !== undefined) {
        const have = client.registry.list().map((p) => p.name);
        return E.left(
          OrbitErrors.invalidInput(
            '--pipeline-concurrency',
            `no pipeline ${JSON.stringify(unknown)} is registered here (${have.length > 0 ? `registered: ${have.join(', ')}` : 'none is: pass --pipelines'})`,
          ),
        );
      }
      const signals = installStopSignals(out.note);
      // Past the grace period a graceful stop becomes a hard one (steps aborted, runs released).
      const graceOver = new AbortController();
      let graceTimer: NodeJS.Timeout | undefined;
      signals.stopSignal.addEventListener(
        'abort',
        () => {
          graceTimer = setTimeout(() => {
            out.note(`Grace period of ${formatDuration(grace.right)} over: aborting running steps and releasing their runs`);
            graceOver.abort(new Error('grace period over'));
          }, grace.right);
          graceTimer.unref();
        },
        { once: true },
      );
      const abortSignal = AbortSignal.any([signals.abortSignal, graceOver.signal]);
      const woken = wokenRuns();
      let wake = false;
      const print = printRecoveryEvent(out, args.verbose, () => wake);
      let metrics: WorkerMetrics | undefined;
      const worker = new Worker({
        client,
        sweepIntervalMs,
        concurrency: concurrency.right,
        pipelineConcurrency: pipelineConcurrency.right,
        // One child per takeover: reserved before the spawn, so the other workers skip the run.
        isolate: reserveTakeover(client, isolatedResume(session)),
        measureClaims: metricsPort !== undefined,
        stopSignal: signals.stopSignal,
        abortSignal,
        onEvent: (e) => {
          metrics?.onEvent(e);
          // Every event, --json too: what was announced decides whether an outcome is a wake-up.
          wake = woken(e);
          // A claim round is a metric, not a line (a busy worker makes many).
          if (e.kind === 'claim-round') return;
          const at = new Date().toISOString();
          // --json: one line per event, for log shippers (the human lines below are for people).
          if (out.json) return void process.stdout.write(`${JSON.stringify({ at, ...e })}\n`);
          if (e.kind === 'notified') out.line(`${at} Run ${e.runId} was released; resuming it`);
          else if (e.kind === 'sweep') out.line(`${at} Sweep: ${e.detected} interrupted, ${e.started} being recovered`);
          else if (e.kind === 'sweep-failed')
            out.failure(
              `${at} Sweep failed: ${formatError(e.error)}${e.retryInMs !== undefined ? `; trying again in ${formatDuration(e.retryInMs)}` : ''}`,
            );
          else if (e.kind === 'stranded')
            if (e.stranded.length === 0) out.info(`${at} Every queued run has a live worker that can execute it`);
            else for (const s of e.stranded) out.failure(`${at} ${describeStranded(s)}`);
          else if (e.kind === 'unexecutable')
            out.info(
              `${at} Run ${e.runId} is interrupted, but pipeline ${e.pipelineId} is not registered in this worker: left for a worker that has it`,
            );
          else if (e.kind === 'listen-lost') out.failure(`${at} LISTEN connection lost (${e.reason}); reconnecting`);
          else if (e.kind === 'listen-restored')
            out.success(`${at} LISTEN connection restored after ${formatDuration(e.downMs)}; sweeping for what was missed`);
          else if (e.kind === 'registration')
            if (e.failure === null) out.success(`${at} Worker registry row renewed again`);
            else
              out.failure(
                `${at} Cannot renew this worker's registry row (orbit workers will not list it): ${formatError(e.failure)}`,
              );
          else if (e.kind === 'claimed') out.line(`${at} Claimed queued run ${e.runId}`);
          else if (e.kind === 'lease-lost')
            out.failure(`${at} Lease not renewed in time: running steps aborted (their runs may be taken over)`);
          else if (e.kind === 'scheduled') out.line(`${at} Schedule ${e.scheduleId}: queued run ${e.runId} for ${e.tickAt}`);
          else if (e.kind === 'schedule-failed')
            out.failure(`${at} Schedule ${e.scheduleId}: the run of ${e.tickAt} was not queued (${e.detail})`);
          else if (e.kind === 'claim-latency')
            return; // a metric (and a --json line), not a line for people
          else if (e.kind === 'executed') {
            const text = `${at} Run ${e.runId} ${e.status}${e.detail !== null ? `: ${e.detail}` : ''}`;
            if (e.status === 'success') out.success(text);
            else if (e.status === 'released' || e.status === 'skipped' || e.status === 'sleeping' || e.status === 'waiting')
              out.info(text);
            else out.failure(text);
          } else print(e);
        },
      });
      if (metricsPort !== undefined) {
        metrics = createWorkerMetrics({
          queueDepth: () => worker.queueDepth(),
          stranded: () => worker.strandedRuns(),
          suspended: async () => {
            const n = await countRuns({ client });
            return E.isLeft(n) ? n : E.right({ sleeping: n.right.counts.sleeping, waiting: n.right.counts.waiting });
          },
        });
        const bound = await metrics.listen(metricsHost, metricsPort).then(
          (port) => E.right(port),
          (err: unknown) => E.left(err instanceof Error ? err.message : String(err)),
        );
        if (E.isLeft(bound)) {
          signals.dispose();
          return E.left(
            OrbitErrors.invalidInput('--metrics-port', `cannot serve metrics on ${metricsHost}:${metricsPort}: ${bound.left}`),
          );
        }
        const url = `http://${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${bound.right}/metrics`;
        if (out.json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), kind: 'metrics', url })}\n`);
        else out.line(`Prometheus metrics on ${url}`);
      }
      const started = await worker.start();
      if (E.isLeft(started)) {
        await metrics?.close();
        return started;
      }
      if (out.json)
        process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), kind: 'listening', worker: client.workerId })}\n`);
      out.line(
        `Recovery worker ${client.workerId} listening on ${notifyChannel(client)} (threshold ${formatDuration(client.thresholdMs)}${worker.sweepIntervalMs === null ? '' : `, a sweep at least every ${formatDuration(worker.sweepIntervalMs)}`}); Ctrl+C to stop`,
      );
      await new Promise<void>((resolve) => signals.stopSignal.addEventListener('abort', () => resolve(), { once: true }));
      await worker.stop();
      await metrics?.close();
      if (graceTimer) clearTimeout(graceTimer);
      signals.dispose();
      if (out.json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), kind: 'stopped' })}\n`);
      out.line('Recovery worker stopped');
      return E.right(signals.abortSignal.aborted ? ExitCode.interrupted : ExitCode.ok);
    });
  },
};
