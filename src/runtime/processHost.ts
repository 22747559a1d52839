import type { Host } from '../server/embedded/host';
import { systemClock } from '../util/clock';

/** This process's environment and clock, for managing the embedded server outside a client (`orbit db`, tests). */
export const processHost = (): Host => ({ env: process.env, clock: systemClock });
