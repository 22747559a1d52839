import { query, type Database } from '../db/database';

/** Removes a worker's registry row (it stopped cleanly), and rows dead for more than a day. */
export const deleteWorkerRegistration = (db: Database, id: string) =>
  query(db, `DELETE FROM ${db.qs}.worker_registry WHERE id = $1 OR alive_until < now() - interval '1 day'`, [id]);
