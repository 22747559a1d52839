import type { RunState } from './runState';

/**
 * Why a suspended run is woken, journaled in its `run.resumed`: the event that came for a step
 * waiting for it (`woken: event "approved" received`), else a sleep that ended or a wait that timed
 * out. Read from the fold, so it names what made the run due, whatever noticed it.
 */
export const wakeReason = (state: Pick<RunState, 'steps'>): string => {
  const got = state.steps.find((s) => s.status === 'waiting' && s.eventAt !== undefined);
  return got !== undefined
    ? `woken: event ${JSON.stringify(got.waitingFor ?? '')} received`
    : 'woken: its sleep ended or its wait timed out';
};
