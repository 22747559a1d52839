/** What `diffRuns` returns, in a module of types only (see auditReport.ts). */
import type { StepStatus } from '../fold/runState';

/** One run's side of a step in `diffRuns`. */
export interface StepSide {
  readonly status: StepStatus;
  readonly attempts: number;
  /** Of its last attempt, from its start to the step's end; null while it has not ended. */
  readonly durationMs: number | null;
  /** A map step's items (present once it started): how many it has and how many succeeded. */
  readonly items?: { readonly total: number; readonly succeeded: number };
}

/** One step of two runs, side by side. */
export interface StepComparison {
  readonly step: string;
  /** null when the run has no such step. */
  readonly a: StepSide | null;
  readonly b: StepSide | null;
  /** Whether both succeeded with equal results; null when either has no result to compare. */
  readonly sameResult: boolean | null;
  /** The first JSON path where the results differ (`$.rows[3].id`), when they do. */
  readonly firstDifference: string | null;
}

/** One of the two runs compared. */
export interface RunSide {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: string;
  readonly durationMs: number | null;
}

/** What `orbit diff` shows: two runs and their steps side by side. */
export interface RunComparison {
  readonly a: RunSide;
  readonly b: RunSide;
  readonly steps: readonly StepComparison[];
}
