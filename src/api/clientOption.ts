import type { OrbitClient } from '../runtime/orbitClient';

/** What every public function's options extend: the client to use. */
export interface ClientOption {
  /** Default: the shared client from the environment (`DATABASE_URL`, else the embedded server). */
  readonly client?: OrbitClient;
}
