import type { Clock } from '../../util/clock';
import type { Env } from '../../util/env';

/**
 * What the embedded server's management takes from its caller instead of the process: the
 * environment its tools inherit (the client's, `connect({ env })`) and the clock its lock and
 * start-up timeouts are measured by.
 */
export interface Host {
  readonly env: Env;
  readonly clock: Clock;
}
