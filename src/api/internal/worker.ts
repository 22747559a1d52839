import type { OrbitClient } from '../../runtime/orbitClient';

/** `orbit worker` and `orbit recover`: the worker itself (its queue depth, its interval) and the outcome mapping. */
export { Worker } from '../../worker/worker';
export { describeStranded } from '../../worker/strandedRuns';
export type { WorkerOptions } from '../../worker/workerOptions';
export { outcomeOf } from '../../recovery/outcomeOf';
export { reserveTakeover } from '../../recovery/reserveTakeover';

/** The channel the client's workers LISTEN on (`orbit worker` names it). */
export const notifyChannel = (client: OrbitClient): string => client.db.channel;
