import type { RunState, StepState } from './runState';

/**
 * The steps of a run that have succeeded, newest first, as a persistent list: a state's list is
 * its predecessor's with one node per `step.succeeded` in front, so states folded one from another
 * share every node they have in common. Readers that must look at each succeeded step once (the
 * step context checks every earlier result against its codec) walk only the nodes they have not
 * seen, instead of every step at every step of a long run.
 *
 * Kept beside the states (a weak map), not in them: RunState stays plain data that compares,
 * serialises and crosses processes as before. A state the fold did not make (decoded from JSON,
 * built by hand) gets its list from one scan of its steps, the first time it is asked.
 */
export interface SuccessNode {
  /** The step's position in the run. */
  readonly index: number;
  /** The step as it succeeded (its result and the seq that carried it). */
  readonly step: StepState;
  readonly prev: SuccessNode | null;
}

const logs = new WeakMap<RunState, SuccessNode | null>();

/** The succeeded steps of `state`, newest first (for a state the fold did not make: in reverse position order). */
export const successLogOf = (state: RunState): SuccessNode | null => {
  const known = logs.get(state);
  if (known !== undefined) return known;
  let log: SuccessNode | null = null;
  for (const step of state.steps) if (step.status === 'success') log = { index: step.index, step, prev: log };
  logs.set(state, log);
  return log;
};

/** Records `log` as the list of `state` (the fold, and whatever derives a state from another with the same steps succeeded). */
export const keepSuccessLog = (state: RunState, log: SuccessNode | null): void => {
  logs.set(state, log);
};
