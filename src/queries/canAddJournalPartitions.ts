import { query, type Database } from '../db/database';

/** Whether this session's role may execute journal_add_partitions (only the owner, unless granted). */
export const canAddJournalPartitions = (db: Database) =>
  query<{ allowed: boolean }>(
    db,
    `SELECT has_function_privilege(format('%s.journal_add_partitions(timestamptz, integer)', $1::text), 'EXECUTE') AS allowed`,
    [db.qs],
  );
