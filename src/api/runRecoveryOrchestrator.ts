import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { recoverInterruptedRuns, type OrchestratorOptions as Options, type RecoverySummary } from '../recovery/orchestrator';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RecoveryEvent, RecoveryOutcome, RecoverySummary } from '../recovery/orchestrator';

export interface OrchestratorOptions extends ClientOption, Options {}

/**
 * The spec's orchestrator: detects interrupted runs and resumes each (several at once). Any
 * number of orchestrators, in any number of processes, may run together: each run's claim is an
 * optimistic append, so exactly one wins and the others report the run as skipped.
 */
export class RunRecoveryOrchestrator {
  constructor(private readonly options: OrchestratorOptions = {}) {}

  async recoverInterruptedRuns(): Promise<E.Either<ConnectFailure, RecoverySummary>> {
    const c = await clientOr(this.options.client);
    return E.isLeft(c) ? c : recoverInterruptedRuns(c.right, this.options);
  }
}
