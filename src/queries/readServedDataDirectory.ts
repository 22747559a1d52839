import type { ClientBase } from 'pg';

/** The data directory of the server this connection reaches (null if its answer is not a server's). Throws on failure. */
export const readServedDataDirectory = async (client: ClientBase): Promise<string | null> => {
  const res = await client.query<{ one: number; dir: string }>("SELECT 1 AS one, current_setting('data_directory') AS dir");
  const row = res.rows[0];
  return row !== undefined && row.one === 1 ? row.dir : null;
};
