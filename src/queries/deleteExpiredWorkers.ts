import type { Database } from '../db/database';

/**
 * Deletes lease rows an hour past their lease: rows of processes that died without stopping
 * (kill -9) would pile up, and such a row protects nothing and proves nothing. Throws on failure.
 */
export const deleteExpiredWorkers = async (db: Database): Promise<void> => {
  await db.pool.query(`DELETE FROM ${db.qs}.workers WHERE lease_until < now() - interval '1 hour'`);
};
