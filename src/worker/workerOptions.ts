import type { InterruptedRun } from '../recovery/detectInterruptedRuns';
import type { RecoveryOutcome } from '../recovery/orchestrator';
import type { OrbitClient } from '../runtime/orbitClient';
import type { WorkerEvent } from './workerEvent';

export interface WorkerOptions {
  readonly client: OrbitClient;
  /** Default: the client's threshold. */
  readonly thresholdMs?: number;
  /**
   * A safety sweep at least this often. Default: none. The worker needs no polling: it wakes on
   * NOTIFY (queued, released, a lease taken), at the database's next deadline (a lease expiry, a
   * threshold, a same-machine owner's missed renewal), after each LISTEN reconnect, and a second
   * after a sweep or claim that failed (test/lease/takeover.test.ts, listen.test.ts,
   * test/e2e/worker.test.ts run without it).
   */
  readonly sweepIntervalMs?: number;
  /** Runs executed or recovered at the same time. Default 4. */
  readonly concurrency?: number;
  /**
   * Per-pipeline concurrency limits (name → runs at once across all workers), over the pipelines'
   * own `concurrency`. Enforced when runs are claimed from the queue (docs/WORKER.md).
   */
  readonly pipelineConcurrency?: Readonly<Record<string, number>>;
  readonly maxRecoveries?: number;
  /** See `OrchestratorOptions.isolate`: where runs already taken over are resumed. */
  readonly isolate?: (run: InterruptedRun, reason: string) => Promise<RecoveryOutcome>;
  readonly onEvent?: (e: WorkerEvent) => void;
  /**
   * Report each claim of a queued or released run as a `claim-latency` event, measured from the
   * journal (one small query per claim). Default false; `orbit worker --metrics-port` turns it on.
   */
  readonly measureClaims?: boolean;
  /** Graceful stop of the runs it is executing (finish the step, release). */
  readonly stopSignal?: AbortSignal;
  readonly abortSignal?: AbortSignal;
}

/** How soon a failed sweep or claim is tried again. */
export const RETRY_MS = 1000;
/** setTimeout's limit (about 24.8 days): a threshold may be longer; the worker then looks again. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
