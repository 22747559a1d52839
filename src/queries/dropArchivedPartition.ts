import { query, type Database } from '../db/database';

/** What archive_drop_partition did: `dropped` (with what it held), or `kept` (nothing changed). */
export interface DroppedPartitionRow {
  readonly outcome: 'dropped' | 'kept';
  readonly runs: number;
  readonly events: string;
  readonly bytes: string;
}

/**
 * Drops a monthly journal partition whose runs are exactly the archived ones given, recording
 * each in the archive ledger and removing its projection rows, in one transaction, through the
 * owner-only archive_drop_partition (sql/015_archive_partitions.sql).
 */
export const dropArchivedPartition = (
  db: Database,
  manifestDigest: string,
  location: string,
  partition: string,
  runs: readonly { readonly runId: string; readonly lastSeq: number; readonly headHash: string }[],
) =>
  query<DroppedPartitionRow>(
    db,
    `SELECT outcome, runs, events::text, bytes::text
       FROM ${db.qs}.archive_drop_partition($1, $2, $3, $4::text[], $5::integer[],
                                            ARRAY(SELECT decode(h, 'hex') FROM unnest($6::text[]) WITH ORDINALITY AS u(h, i) ORDER BY i))`,
    [manifestDigest, location, partition, runs.map((r) => r.runId), runs.map((r) => r.lastSeq), runs.map((r) => r.headHash)],
  );
