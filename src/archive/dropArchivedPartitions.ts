import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { OrbitError } from '../errors';
import { dropArchivedPartition } from '../queries/dropArchivedPartition';
import { listJournalMonthPartitions } from '../queries/listJournalMonthPartitions';

/** One monthly journal partition an archive dropped whole. */
export interface DroppedPartition {
  readonly name: string;
  readonly runs: number;
  readonly events: number;
  /** Its size (table, indexes, TOAST) when it was dropped: what the drop freed. */
  readonly bytes: number;
}

interface ArchivedHead {
  readonly runId: string;
  readonly lastSeq: number;
  readonly headHash: string;
}

/**
 * The partition step of `orbit archive`: for each monthly journal partition whose month is over
 * and whose id range holds runs of the archive, asks archive_drop_partition to drop it whole. The
 * database checks that the partition's runs are exactly these (finished, heads unchanged); when
 * they are not (runs of that month not archived, or user-given ids in its range) it keeps the
 * partition and changes nothing, and those runs are removed row by row like any other. Returns the
 * partitions dropped and the ids of their runs (removed and recorded in the ledger).
 */
export const dropArchivedPartitions = async (
  db: Database,
  manifestDigest: string,
  location: string,
  runs: readonly ArchivedHead[],
): Promise<E.Either<OrbitError, { dropped: DroppedPartition[]; runIds: Set<string> }>> => {
  const partitions = await listJournalMonthPartitions(db);
  if (E.isLeft(partitions)) return partitions;
  const dropped: DroppedPartition[] = [];
  const runIds = new Set<string>();
  for (const p of partitions.right) {
    // Orbit's ids in a month's range sort the same in JavaScript and in any collation; an id that
    // does not only makes the database keep the partition.
    const inRange = runs.filter((r) => r.runId >= p.lo && r.runId < p.hi);
    if (inRange.length === 0) continue;
    const r = await dropArchivedPartition(db, manifestDigest, location, p.name, inRange);
    if (E.isLeft(r)) return r;
    const row = r.right[0];
    if (row?.outcome !== 'dropped') continue;
    dropped.push({ name: p.name, runs: row.runs, events: Number(row.events), bytes: Number(row.bytes) });
    for (const x of inRange) runIds.add(x.runId);
  }
  return E.right({ dropped, runIds });
};
