import type { ClientBase } from 'pg';

/** The cheapest round trip: rejects when the connection is gone (a silent loss raises nothing by itself). */
export const probeConnection = async (client: ClientBase): Promise<void> => {
  await client.query('SELECT 1');
};
