/** What `checkProjections` returns, in a module of types only (the audit's report uses it too). */

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
