/** What `pipelineStats` and `recoveryHistory` return, in a module of types only. */

export interface PipelineStats {
  readonly pipelineId: string;
  /** Runs started in the window. */
  readonly runs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly unfinished: number;
  /** Succeeded over ended (null when none ended). */
  readonly successRate: number | null;
  /** Median and 95th percentile duration of the succeeded runs (ms). */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly lastStartedAt: string;
}

/** One bucket of `recoveryHistory`. */
export interface RecoveryPoint {
  /** Start of the bucket (database clock). */
  readonly from: string;
  /** Runs detected as interrupted and resumed in the bucket. */
  readonly interrupted: number;
  /** `run.resumed` events (a `--retry-failed` resume included). */
  readonly recoveries: number;
  /** Recoveries whose run then succeeded, over those whose run then ended (null: none ended). */
  readonly successRate: number | null;
  /** In-flight steps executed again. */
  readonly stepsReExecuted: number;
  /** From `run.resumed` to the run's end, averaged over recoveries that ended (ms). */
  readonly averageRecoveryMs: number | null;
}
