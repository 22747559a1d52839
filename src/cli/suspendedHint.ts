import { describeWait } from '../api/loadRunState';
import type { SuspendedOn } from '../api/listRuns';
import { orbitCommand, type ConnectionFlags } from './hints';

/**
 * The one line `orbit run`, `orbit fork` and `orbit resume` print for a run they left suspended
 * (it sleeps or waits; a worker continues it): not a release, so exit 0 and no resume hint.
 */
export const suspendedHint = (args: ConnectionFlags, runId: string, suspended: SuspendedOn): string => {
  const send =
    suspended.kind === 'wait' && suspended.event !== null
      ? `; send it with: ${orbitCommand(args, 'send', runId, suspended.event)}`
      : '';
  return `Run ${runId} is ${describeWait(suspended)}; a worker (orbit worker) will continue it${send}`;
};
