import type { JsonValue } from '../events/json';
import type { RunEvent, StepError } from '../events/runEvents';

/** How one attempt of a step ended, as the executor observed it (an abort is not an outcome: it fences). */
export type AttemptResult =
  | { readonly kind: 'succeeded'; readonly result: JsonValue }
  | { readonly kind: 'failed'; readonly error: StepError; readonly retryable: boolean }
  | { readonly kind: 'timedOut'; readonly afterMs: number }
  /** A sleep step began sleeping until `until` (ISO, database clock). */
  | { readonly kind: 'sleep'; readonly until: string }
  /** A wait step began waiting for `event` until `timeoutAt` (ISO, database clock; null: no timeout). */
  | { readonly kind: 'wait'; readonly event: string; readonly timeoutAt: string | null };

/** A resume request: who claims the run and on what terms. */
export interface ResumeRequest {
  /** Why (journaled in `run.resumed`). Default `interrupted`, or `retry failed steps`. */
  readonly reason?: string;
  /** The worker that had the run resumed here, in a process of its own (journaled as `requestedBy`). */
  readonly requestedBy?: string;
  readonly retryFailed: boolean;
  readonly force: boolean;
  /** A run taken over this many times already is failed instead of resumed (a poison step). */
  readonly maxRecoveries: number;
}

/**
 * What just happened to a run, from the decider's point of view. Every input is a value: the
 * time (`now`, database clock) and the retry jitter (`random`) come in, they are never read.
 */
export type Outcome = {
  /** The worker deciding (named in `run.released` and `run.resumed`). */
  readonly worker: string;
  /** The worker was asked to stop (graceful or hard): hand the run back instead of going on. */
  readonly stopping: boolean;
  /** Why it stops, journaled in `run.released` when not a shutdown (the lease could not be renewed). */
  readonly stopReason?: string;
  /**
   * Steps whose attempt this executor is running now (besides the one an `attempt` outcome
   * reports): they are neither started again nor counted as ended. Any other step the journal
   * shows running was left by a previous holder (or aborted by a hard stop) and starts again.
   * Map items are keyed by `itemKey(step, index)`.
   */
  readonly executing?: ReadonlySet<string>;
} & (
  | /** A new run: these events (creation + claim) are to be written first. */
    {
      readonly kind: 'claim';
      readonly runId: string;
      readonly events: readonly RunEvent[];
    } /** Recovery takes the run over (or, with retryFailed, runs its failed steps again). */
  | ({
      readonly kind: 'resume';
    } & ResumeRequest) /** Nothing new since the state: what now? (after a commit, after a wait, after a hard stop) */
  | {
      readonly kind: 'tick';
      readonly now: string;
    } /** The attempt the last decision started has ended. `random` in [0, 1) spreads the retry delay. */
  | ({
      readonly kind: 'attempt';
    } & EndedAttempt) /** Several attempts ended (map items, branches): journaled together, in this order. */
  | {
      readonly kind: 'attempts';
      readonly ended: readonly EndedAttempt[];
    } /** The journal refused our append for a reason other than a conflict: end the run or hand it back. */
  | { readonly kind: 'journalRefused'; readonly unreachable: boolean; readonly message: string }
);

/** An attempt that ended. `random` in [0, 1) spreads the retry delay. */
export interface EndedAttempt {
  readonly stepName: string;
  /** The map item, for an item's attempt. */
  readonly item?: number;
  readonly attempt: number;
  readonly result: AttemptResult;
  readonly random: number;
}

/** An attempt to run, its `step.started` (or, for a map item, `item.started`) being among the decision's events. */
export interface StepStart {
  readonly stepName: string;
  /** The map item to run (its position in the list), for an item's attempt. */
  readonly item?: number;
  readonly attempt: number;
}

/** What the executor does after appending the decision's events. */
export type Next =
  /**
   * Go on: run these attempts (each beside the ones already executing), then decide again when an
   * attempt ends, at `wakeAt` (a retry is due then, database clock), or at once when
   * `decideAgain` (the events fix a time only the commit knows). With nothing to start, the run
   * waits for what is executing (a failed branch waits for the others to end, a stop too).
   */
  | {
      readonly kind: 'run';
      readonly starts: readonly StepStart[];
      readonly wakeAt: string | null;
      readonly decideAgain: boolean;
    }
  /** The run has ended (succeeded, failed or cancelled); nothing more to do. */
  | { readonly kind: 'finished' }
  /** The run was handed back (or, stopped before the claim, never taken). */
  | { readonly kind: 'released' };

/** Append `events` (all in one transaction; none when empty), then do `next`. */
export interface Decision {
  readonly events: readonly RunEvent[];
  readonly next: Next;
}
