import type { PoolClient } from 'pg';

/** Releases the lock `lockMigrations` took. Throws on failure. */
export const unlockMigrations = async (client: PoolClient, key: string): Promise<void> => {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
};
