import * as E from 'fp-ts/Either';
import { formatError } from '../errors';
import type { InterruptedRun } from './detectInterruptedRuns';
import type { RecoveryOutcome } from './recoveryOutcome';
import type { ResumeResult } from './resumeRun';

/** The run a recoverer set out to resume: as detected, or (a released run) only its id. */
export type RecoveryTarget = Pick<InterruptedRun, 'runId' | 'pipelineId' | 'owner'>;

/**
 * How one recovery fared, from the resume's result: the one mapping the orchestrator, the worker
 * and the isolated child's parent share. Losing a race is not a failure: another claimant won
 * (RunAlreadyClaimed, or RunStillActive under a new holder), the old holder turned out alive, or
 * another process finished or cancelled the run meanwhile. A failure makes a worker look again at
 * once, and would start yet another recovery of a run that is not its to recover.
 */
export const outcomeOf = (target: RecoveryTarget, result: ResumeResult): RecoveryOutcome => {
  const base = { runId: target.runId, pipelineId: E.isRight(result) ? result.right.pipelineId : target.pipelineId };
  if (E.isRight(result)) {
    // Released: this process is stopping and handed the run back unfinished; it stays interrupted.
    return result.right.released
      ? { ...base, outcome: 'skipped', reason: 'released unfinished (shutting down)' }
      : { ...base, outcome: 'recovered', result: result.right };
  }
  const e = result.left;
  switch (e._tag) {
    case 'RunAlreadyClaimed':
      return { ...base, outcome: 'skipped', reason: 'claimed by another process' };
    case 'RunStillActive':
      // Alive under a new holder: another recoverer won. Alive under the old one: its worker came back.
      return {
        ...base,
        outcome: 'skipped',
        reason: e.owner !== target.owner ? 'claimed by another process' : `its worker ${e.owner} is alive again`,
      };
    case 'RunNotResumable':
      if (e.status === 'success' || e.status === 'cancelled')
        return { ...base, outcome: 'skipped', reason: 'ended by another process' };
      break;
    default:
      break;
  }
  return { ...base, outcome: 'failed', error: e, message: formatError(e) };
};
