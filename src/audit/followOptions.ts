/** What `followRun` takes and returns, in a module of types only (see auditReport.ts). */
import type { RecordedEvent } from '../events/runEvents';

export interface FollowOptions {
  /** Deliver events after this seq. Default 0 (the whole run). */
  readonly afterSeq?: number;
  /** Called for each event, in seq order, as soon as it is read. */
  readonly onEvent: (e: RecordedEvent) => void;
  /** Stops following (the promise then resolves with `ended: false`). */
  readonly signal?: AbortSignal;
  /** Poll interval between notifications. Default 500 ms. */
  readonly pollMs?: number;
}

export interface FollowResult {
  /** Whether the run reached a terminal event (a `--retry-failed` resume may still follow a failure). */
  readonly ended: boolean;
  /** The seq of the last event delivered (afterSeq when none). */
  readonly lastSeq: number;
}
