import { query, type Database } from '../db/database';

/** Whether this session's role may execute archive_remove_runs (only the owner, unless granted). */
export const canRemoveArchivedRuns = (db: Database) =>
  query<{ allowed: boolean }>(
    db,
    `SELECT has_function_privilege(format('%s.archive_remove_runs(text, text, text[], integer[], bytea[])', $1::text), 'EXECUTE') AS allowed`,
    [db.qs],
  );
