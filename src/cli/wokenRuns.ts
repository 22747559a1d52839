import type { WorkerEvent } from '../api/startWorker';

/**
 * Tells a worker's wake-ups from its recoveries, by what it announced: a takeover comes after an
 * `attempt`, a released run after `notified`; a sleeping or waiting run it wakes has neither, and
 * was never interrupted (docs/WORKER.md "Sleeping and waiting runs"), so its line must not say
 * "Recovered". Returns, for an `outcome`, whether that run was woken.
 */
export const wokenRuns = (): ((e: WorkerEvent) => boolean) => {
  const announced = new Set<string>();
  return (e) => {
    if (e.kind === 'attempt') announced.add(e.run.runId);
    else if (e.kind === 'notified') announced.add(e.runId);
    else if (e.kind === 'outcome') return !announced.delete(e.outcome.runId);
    return false;
  };
};
