/**
 * What `listRuns` returns, in a module of types only: the public API (src/api/) re-exports
 * them without its published .d.ts loading the pool-taking functions, and with them pg's types.
 */
import type { RunStatus } from '../fold/runState';

export interface RunSummary {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly stepsSucceeded: number;
  readonly stepsTotal: number;
  readonly error: string | null;
}

export interface ListRunsOptions {
  readonly status?: RunStatus;
  readonly pipelineId?: string;
  /** Newest first; default 20. */
  readonly limit?: number;
}
