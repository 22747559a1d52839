import type { JsonValue } from '../events/json';
import type { ForkedFrom, StepError } from '../events/runEvents';
import type { MapState } from './mapState';

/**
 * Run statuses, in the spec's words (plus `cancelled`), and the two of a suspended run: `sleeping`
 * (its open steps sleep) and `waiting` (one waits for an event). A suspended run holds no worker
 * and no lease and is never interrupted; it stays suspended until a worker resumes it, also after
 * the event it waits for came (its step is then due).
 */
export type RunStatus = 'pending' | 'running' | 'success' | 'failed' | 'cancelled' | 'sleeping' | 'waiting';

/** Step statuses, in the spec's words. */
export type StepStatus = 'pending' | 'running' | 'success' | 'failed' | 'retrying' | 'sleeping' | 'waiting';

/** One step of a run, as the fold of its journal says it is. Times are ISO-8601 strings. */
export interface StepState {
  readonly name: string;
  /** Position in the pipeline's step list, from 0. */
  readonly index: number;
  readonly status: StepStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Attempts started so far (the attempt number of the latest `step.started`). */
  readonly attemptCount: number;
  /** The latest failure, kept while the step is failed or retrying. */
  readonly error: StepError | null;
  /** Whether the latest failure may be retried. */
  readonly retryable: boolean | null;
  /** What the handler returned (`data`), once succeeded. */
  readonly result: JsonValue | null;
  /** The seq of the `step.succeeded` event that carried `result` (to name it in decode errors). */
  readonly resultSeq: number | null;
  /**
   * When a retrying step's next attempt is due, a sleeping step wakes, or a waiting step times out
   * (database clock; null for a wait without timeout).
   */
  readonly nextRetryAt: string | null;
  /** A wait step: the event it waits for (or took), once it began waiting. */
  readonly waitingFor?: string;
  /**
   * A waiting step whose event was received and not yet taken: when it came. The step is due then
   * (`stepDueAt`, the projection's `next_retry_at`): its run is woken, not recovered.
   */
  readonly eventAt?: string;
  /**
   * Set while the latest attempt was started over one that journaled no outcome (its process
   * died): when the first of those attempts started. A sleep's end and a wait's timeout count from
   * it, so a crash before `step.sleeping` does not start the sleep again from zero.
   */
  readonly restartedFrom?: string;
}

/** An event sent to the run (`event.received`) and not yet taken by a wait step. */
export interface ReceivedEvent {
  readonly event: string;
  readonly data: JsonValue;
  /** The sending process, and who it said it sent for. */
  readonly by: string;
  readonly sender: string | null;
  readonly seq: number;
  readonly at: string;
}

/** A run, as the fold of its journal says it is. */
export interface RunState {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: RunStatus;
  readonly triggeredBy: string | null;
  readonly metadata: JsonValue;
  /** Hash of the pipeline definition the run was created from (drift detection). */
  readonly definitionHash: string;
  /** Step names as journaled at creation; the run executes exactly these. */
  readonly stepNames: readonly string[];
  /**
   * Every step's dependencies by name as journaled at creation, or null when each step depends on
   * the one before it (a linear pipeline).
   */
  readonly dependsOn: Readonly<Record<string, readonly string[]>> | null;
  /**
   * Positions (ascending) of the steps whose dependencies have all succeeded and that have not
   * succeeded themselves: the steps that may be running, waiting for a retry, failed, or ready to
   * start. Kept by the fold as steps succeed, so deciding what to start never scans the whole run.
   * Empty exactly when every step succeeded.
   */
  readonly open: readonly number[];
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The worker holding the run; null when released or finished. */
  readonly owner: string | null;
  /** Why the run failed or was cancelled. */
  readonly error: string | null;
  /**
   * Resumptions after a crash (the holder had not released the run) since the last manual
   * `retryFailed` resume: what the poison-run cap counts. Graceful releases do not count.
   */
  readonly recoveryCount: number;
  readonly lastSeq: number;
  readonly lastEventAt: string;
  readonly steps: readonly StepState[];
  /** The run and step this run was forked from (absent: not a fork). */
  readonly forkedFrom?: ForkedFrom;
  /** The items of each map step that has started, by step name (absent: no map step started). */
  readonly maps?: Readonly<Record<string, MapState>>;
  /** Events received and not yet taken by a wait step, oldest first (absent: none ever received). */
  readonly inbox?: readonly ReceivedEvent[];
}

/** Whether a run in this status is suspended: it sleeps or waits, and nobody holds it. */
export const isSuspendedStatus = (status: RunStatus): boolean => status === 'sleeping' || status === 'waiting';

/** Whether a run in this status has ended (`failed` can still be resumed with `--retry-failed`). */
export const isFinishedStatus = (status: RunStatus): boolean =>
  status === 'success' || status === 'failed' || status === 'cancelled';

export const isFinished = (s: RunState): boolean => isFinishedStatus(s.status);
