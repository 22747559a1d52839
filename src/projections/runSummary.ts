/**
 * What `listRuns` returns, in a module of types only: the public API (src/api/) re-exports
 * them without its published .d.ts loading the pool-taking functions, and with them pg's types.
 */
import type { RunStatus } from '../fold/runState';
import type { SuspendedOn } from '../fold/runWait';

export type { SuspendedOn } from '../fold/runWait';

export interface RunSummary {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly stepsSucceeded: number;
  readonly stepsTotal: number;
  readonly error: string | null;
  /** The worker holding it; null when nobody does (pending, released by its worker, or ended). */
  readonly owner: string | null;
  /** Its latest journal event (for a released run: since when it waits for a worker). */
  readonly lastEventAt: string;
  /**
   * A `sleeping` or `waiting` run: the step it sleeps or waits in, until when (a sleep's end, a
   * wait's timeout, null for a wait without one) and, for a wait, the event's name.
   */
  readonly suspended?: SuspendedOn;
}

export interface ListRunsOptions {
  readonly status?: RunStatus;
  readonly pipelineId?: string;
  /** Newest first; default 20. */
  readonly limit?: number;
}
