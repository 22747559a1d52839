import type { JsonValue } from '../events/json';
import type { RunEvent, StepError } from '../events/runEvents';

/** How one attempt of a step ended, as the executor observed it (an abort is not an outcome: it fences). */
export type AttemptResult =
  | { readonly kind: 'succeeded'; readonly result: JsonValue }
  | { readonly kind: 'failed'; readonly error: StepError; readonly retryable: boolean }
  | { readonly kind: 'timedOut'; readonly afterMs: number };

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
  | {
      readonly kind: 'attempt';
      readonly stepName: string;
      readonly attempt: number;
      readonly result: AttemptResult;
      readonly random: number;
    } /** The journal refused our append for a reason other than a conflict: end the run or hand it back. */
  | { readonly kind: 'journalRefused'; readonly unreachable: boolean; readonly message: string }
);

/** What the executor does after appending the decision's events. */
export type Next =
  /** Run this attempt of this step (the events end with its `step.started`). */
  | { readonly kind: 'run'; readonly stepName: string; readonly attempt: number }
  /** A retry is due at `until` (database clock): wait, then decide again (`tick`). */
  | { readonly kind: 'wait'; readonly until: string }
  /** Decide again (`tick`) once the events are committed: they fix a time only the commit knows. */
  | { readonly kind: 'decideAgain' }
  /** The run has ended (succeeded, failed or cancelled); nothing more to do. */
  | { readonly kind: 'finished' }
  /** The run was handed back (or, stopped before the claim, never taken). */
  | { readonly kind: 'released' };

/** Append `events` (all in one transaction; none when empty), then do `next`. */
export interface Decision {
  readonly events: readonly RunEvent[];
  readonly next: Next;
}
