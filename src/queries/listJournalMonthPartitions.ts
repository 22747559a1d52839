import { query, type Database } from '../db/database';

/** A monthly journal partition whose month is over: its name and its range of run ids [lo, hi). */
export interface JournalMonthPartition {
  readonly name: string;
  readonly lo: string;
  readonly hi: string;
}

/** The journal's monthly partitions whose month is over (sql/015), by name. */
export const listJournalMonthPartitions = (db: Database) =>
  query<JournalMonthPartition>(db, `SELECT name, lo, hi FROM ${db.qs}.journal_month_partitions()`);
