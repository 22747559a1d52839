/** The client every public function takes: one pool, one schema, every setting resolved once. */
export { connect, defaultClient, closeDefaultClient, type OrbitClient, type ConnectOptions } from '../runtime/orbitClient';
