import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { addJournalPartitions } from '../queries/addJournalPartitions';
import { canAddJournalPartitions } from '../queries/canAddJournalPartitions';

/** How many months of journal partitions `orbit migrate` and `orbit archive` keep made ahead. */
export const PARTITION_MONTHS_AHEAD = 12;

/**
 * Makes the journal's monthly partitions of this month and the next ones (sql/014,
 * journal_add_partitions) when this role may (the schema's owner); a role that may not (the
 * runtime role) makes none and is not refused. Returns the partitions made.
 */
export const addPartitionsAhead = async (db: Database): Promise<E.Either<DbFailure, string[]>> => {
  const allowed = await canAddJournalPartitions(db);
  if (E.isLeft(allowed)) return allowed;
  if (allowed.right[0]?.allowed !== true) return E.right([]);
  const made = await addJournalPartitions(db, PARTITION_MONTHS_AHEAD + 1);
  return E.map((rows: readonly { name: string }[]) => rows.map((r) => r.name))(made);
};
