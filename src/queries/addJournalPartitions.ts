import { query, type Database } from '../db/database';

/** Makes the journal's monthly partitions from this month on, `months` of them, through the owner-only journal_add_partitions (sql/014); returns those it made. */
export const addJournalPartitions = (db: Database, months: number) =>
  query<{ name: string }>(db, `SELECT p AS name FROM ${db.qs}.journal_add_partitions(now(), $1) AS p`, [months]);
