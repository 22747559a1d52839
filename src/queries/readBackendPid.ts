import type { ClientBase } from 'pg';

/** The server process id of this connection (null if the server returned none). Throws on failure. */
export const readBackendPid = async (client: ClientBase): Promise<number | null> => {
  const r = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return r.rows[0]?.pid ?? null;
};
