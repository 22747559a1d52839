import type { Database } from '../db/database';

/** Deletes a process's lease row (it stopped cleanly and released its runs). Throws on failure. */
export const deleteWorker = async (db: Database, workerId: string): Promise<void> => {
  await db.pool.query(`DELETE FROM ${db.qs}.workers WHERE id = $1`, [workerId]);
};
