import * as E from 'fp-ts/Either';
import type { ResumeFailure } from '../../src/errors';
import { outcomeOf } from '../../src/recovery/outcomeOf';
import type { ResumeSuccess } from '../../src/recovery/resumeRun';

/** The one mapping from a resume's result to a recovery outcome (orchestrator, worker, isolated child). */
const target = { runId: 'r1', pipelineId: 'p', owner: 'old-worker' };
const success: ResumeSuccess = {
  runId: 'r1',
  pipelineId: 'p',
  status: 'success',
  stepsExecuted: 2,
  resumedFrom: 'b',
  reExecutedInFlight: [],
  durationMs: 5,
  released: false,
  suspended: null,
  error: null,
};
const of = (e: ResumeFailure) => outcomeOf(target, E.left(e));

describe('outcomeOf', () => {
  it('a resume that ran is recovered; one released on shutdown is skipped', () => {
    expect(outcomeOf(target, E.right(success))).toEqual({ runId: 'r1', pipelineId: 'p', outcome: 'recovered', result: success });
    expect(outcomeOf(target, E.right({ ...success, released: true }))).toMatchObject({
      outcome: 'skipped',
      reason: 'released unfinished (shutting down)',
    });
  });

  it('a lost race is skipped, whichever way it was lost', () => {
    expect(of({ _tag: 'RunAlreadyClaimed', runId: 'r1' })).toMatchObject({
      outcome: 'skipped',
      reason: 'claimed by another process',
    });
    const active = { _tag: 'RunStillActive', runId: 'r1', lastActivityAt: null, thresholdMs: 1000 } as const;
    expect(of({ ...active, owner: 'new-worker' })).toMatchObject({ outcome: 'skipped', reason: 'claimed by another process' });
    expect(of({ ...active, owner: 'old-worker' })).toMatchObject({
      outcome: 'skipped',
      reason: 'its worker old-worker is alive again',
    });
    for (const status of ['success', 'cancelled'])
      expect(of({ _tag: 'RunNotResumable', runId: 'r1', status, reason: 'x' })).toMatchObject({
        outcome: 'skipped',
        reason: 'ended by another process',
      });
  });

  it('everything else is a failure carrying the tagged error and its line', () => {
    const e: ResumeFailure = { _tag: 'RunHasFailedSteps', runId: 'r1', failedSteps: ['b'] };
    expect(of(e)).toEqual({
      runId: 'r1',
      pipelineId: 'p',
      outcome: 'failed',
      error: e,
      message: 'Run has 1 failed step(s), cannot auto-resume',
    });
    expect(of({ _tag: 'RunNotResumable', runId: 'r1', status: 'failed', reason: 'x' })).toMatchObject({ outcome: 'failed' });
  });
});
