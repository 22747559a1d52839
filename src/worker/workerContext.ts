import type { WorkerOptions } from './workerOptions';
import type { Slots } from './slots';
import type { WorkerEvent } from './workerEvent';

/** What the queue consumer and the recovery loop share with the worker that runs them. */
export interface WorkerContext {
  readonly options: WorkerOptions;
  readonly slots: Slots;
  readonly emit: (e: WorkerEvent) => void;
  /** Called once a claim of a queued or released run committed (claim-latency metrics). */
  readonly onClaimed: ((runId: string) => void) | undefined;
  /** stop() was called, or the caller's stop signal fired: start nothing new. */
  readonly stopping: () => boolean;
  /** While the LISTEN connection is down its loss is already reported: failures say nothing more. */
  readonly listenDown: () => boolean;
}
