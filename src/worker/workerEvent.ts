import type { ConnectFailure, DbFailure } from '../errors';
import type { ClaimLatency } from '../queries/claimLatency';
import type { RecoveryEvent } from '../recovery/orchestrator';
import type { StrandedRuns } from './strandedRuns';

/** What a worker reports: recovery events, plus its own sweeps, claims and connection state. */
export type WorkerEvent =
  | RecoveryEvent
  | { readonly kind: 'notified'; readonly runId: string; readonly type: string }
  /** A sweep found `detected` interrupted runs and started recovering `started` of them. */
  | { readonly kind: 'sweep'; readonly detected: number; readonly started: number }
  /** A sweep or queue claim failed; the next attempt is in `retryInMs` (backing off while it keeps failing). */
  | { readonly kind: 'sweep-failed'; readonly error: ConnectFailure; readonly retryInMs?: number }
  /** One claim round on the queue (one query): `reserved` runs taken for free slots. */
  | { readonly kind: 'claim-round'; readonly reserved: number }
  /** Queued runs no live worker can execute (pipeline or definition missing everywhere), reported when the set changes; empty: none any more. */
  | { readonly kind: 'stranded'; readonly stranded: readonly StrandedRuns[] }
  /** An interrupted run this worker cannot recover (its pipeline is not registered here): left for a worker that has it, reported once. */
  | { readonly kind: 'unexecutable'; readonly runId: string; readonly pipelineId: string }
  | { readonly kind: 'claimed'; readonly runId: string }
  | {
      readonly kind: 'executed';
      readonly runId: string;
      /**
       * How the queued run ended here; `released` when this worker stopped before its end,
       * `sleeping` or `waiting` when it suspended (a worker wakes it).
       */
      readonly status: 'success' | 'failed' | 'cancelled' | 'released' | 'sleeping' | 'waiting' | 'skipped' | 'error';
      readonly detail: string | null;
    }
  | { readonly kind: 'listen-lost'; readonly reason: string }
  | { readonly kind: 'listen-restored'; readonly downMs: number }
  /** This worker claimed a queued or released run `seconds` after it became available (journal timestamps). */
  | ({ readonly kind: 'claim-latency'; readonly runId: string } & ClaimLatency)
  /** Its row in the worker registry could not be renewed (`failure`), or can again (null): reported on change only. */
  | { readonly kind: 'registration'; readonly failure: DbFailure | null }
  /** This process's lease ran out before a renewal succeeded: its running steps are aborted. */
  | { readonly kind: 'lease-lost' }
  /** This worker queued the run of a schedule's tick (docs/WORKER.md "Schedules"). */
  | { readonly kind: 'scheduled'; readonly scheduleId: string; readonly tickAt: string; readonly runId: string }
  /** A schedule's tick could not be recorded or its run not queued (`detail`: the failure's tag). */
  | { readonly kind: 'schedule-failed'; readonly scheduleId: string; readonly tickAt: string; readonly detail: string };
