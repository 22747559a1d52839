import type { PoolClient } from 'pg';

/** Takes the session advisory lock that serialises migrations of one schema (waits for it). Throws on failure. */
export const lockMigrations = async (client: PoolClient, key: string): Promise<void> => {
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
};
