/**
 * What `checkProjections` returns, in a module of types only: the public API (src/inspect.ts)
 * re-exports them without its published .d.ts loading pg's types.
 */

/** One field where the projection tables and the fold of the journal disagree. */
export interface ProjectionDifference {
  readonly runId: string;
  /** e.g. `runs.status` or `steps[transform].attempt_count`. */
  readonly field: string;
  readonly projected: unknown;
  readonly folded: unknown;
}

export interface ProjectionReport {
  readonly runsChecked: number;
  readonly differences: readonly ProjectionDifference[];
}
