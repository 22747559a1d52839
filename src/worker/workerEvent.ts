import type { ConnectFailure, DbFailure } from '../errors';
import type { ClaimLatency } from '../queries/claimLatency';
import type { RecoveryEvent } from '../recovery/orchestrator';

/** What a worker reports: recovery events, plus its own sweeps, claims and connection state. */
export type WorkerEvent =
  | RecoveryEvent
  | { readonly kind: 'notified'; readonly runId: string; readonly type: string }
  /** A sweep found `detected` interrupted runs and started recovering `started` of them. */
  | { readonly kind: 'sweep'; readonly detected: number; readonly started: number }
  | { readonly kind: 'sweep-failed'; readonly error: ConnectFailure }
  | { readonly kind: 'claimed'; readonly runId: string }
  | {
      readonly kind: 'executed';
      readonly runId: string;
      /** How the queued run ended here; `released` when this worker stopped before its end. */
      readonly status: 'success' | 'failed' | 'cancelled' | 'released' | 'skipped' | 'error';
      readonly detail: string | null;
    }
  | { readonly kind: 'listen-lost'; readonly reason: string }
  | { readonly kind: 'listen-restored'; readonly downMs: number }
  /** This worker claimed a queued or released run `seconds` after it became available (journal timestamps). */
  | ({ readonly kind: 'claim-latency'; readonly runId: string } & ClaimLatency)
  /** Its row in the worker registry could not be renewed (`failure`), or can again (null): reported on change only. */
  | { readonly kind: 'registration'; readonly failure: DbFailure | null }
  /** This process's lease ran out before a renewal succeeded: its running steps are aborted. */
  | { readonly kind: 'lease-lost' };
