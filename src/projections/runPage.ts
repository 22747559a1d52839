/**
 * What `searchRuns` and `countRuns` return, in a module of types only: the public API (src/api/)
 * re-exports them without its published .d.ts loading the pool-taking functions.
 */
import type { RunStatus } from '../fold/runState';
import type { RunSummary } from './runSummary';

export interface RunPageEntry extends RunSummary {
  /** The run's input, as journaled. */
  readonly metadata: unknown;
  /** How many times the run was resumed. */
  readonly recoveryCount: number;
}

export interface SearchRunsOptions {
  readonly status?: RunStatus;
  readonly pipelineId?: string;
  /**
   * A run id (exact); a value a top-level metadata field equals (a string exactly; a number or
   * boolean also as one: `42` finds 42 and "42"); or `key=value`, the field `key` equal to `value`.
   * Exact, case-sensitive, no wildcards; answered from an index (docs/UI.md, "Search").
   */
  readonly search?: string;
  /** The `next` cursor of the previous page: only runs older than it. */
  readonly after?: string;
  /** Newest first; default 50. */
  readonly limit?: number;
}

export interface RunPage {
  readonly runs: readonly RunPageEntry[];
  /** Pass as `after` for the next (older) page; null on the last page. */
  readonly next: string | null;
}

/** Runs per status; a count above `cap` is reported as `cap + 1` with `capped: true`. */
export interface RunCounts {
  readonly counts: Readonly<Record<RunStatus, number>>;
  readonly cap: number;
  /** The statuses whose count reached the cap (shown as "more than cap"). */
  readonly capped: readonly RunStatus[];
}
