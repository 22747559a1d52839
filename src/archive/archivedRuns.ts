import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import type { Checkpoint } from '../audit/checkpointFormat';
import type { AuditProblem } from '../audit/problems';
import { readArchivedRuns, type ArchivedRunRow } from '../queries/readArchivedRuns';

/** A run the archive ledger says `orbit archive` removed: where it went, when, by whom. */
export interface ArchivedRun {
  readonly runId: string;
  readonly events: number;
  readonly lastSeq: number;
  readonly headHash: string;
  /** sha256 (hex) of the archive's manifest line. */
  readonly manifestDigest: string;
  /** The archive directory, as the archiver's machine named it. */
  readonly location: string;
  readonly archivedAt: string;
  readonly archivedBy: string;
}

const toArchived = (r: ArchivedRunRow): ArchivedRun => ({
  runId: r.run_id,
  events: r.events,
  lastSeq: r.last_seq,
  headHash: r.head_hash,
  manifestDigest: r.manifest_digest,
  location: r.location,
  archivedAt: r.archived_at.toISOString(),
  archivedBy: r.archived_by,
});

/**
 * Separates archived runs from missing ones: an `unknown run`, or a checkpoint's `run deleted`,
 * that the archive ledger holds is not a problem but an archived run. A checkpointed run whose
 * ledger head cannot follow the checkpoint's (an earlier seq, or the same seq with another hash)
 * stays a problem, with what the ledger says: it was rewritten before it was archived.
 */
export const separateArchived = async (
  db: Database,
  problems: readonly AuditProblem[],
  checkpoint?: Checkpoint,
): Promise<E.Either<DbFailure, { readonly problems: AuditProblem[]; readonly archived: ArchivedRun[] }>> => {
  const candidates = problems.filter((p) => p.kind === 'unknown run' || p.kind === 'run deleted').map((p) => p.runId);
  if (candidates.length === 0) return E.right({ problems: [...problems], archived: [] });
  const rows = await readArchivedRuns(db, [...new Set(candidates)]);
  if (E.isLeft(rows)) return rows;
  const ledger = new Map(rows.right.map((r) => [r.run_id, toArchived(r)]));
  const heads = new Map((checkpoint?.runs ?? []).map((r) => [r.runId, r]));
  const archived = new Map<string, ArchivedRun>();
  const kept: AuditProblem[] = [];
  for (const p of problems) {
    const a = p.kind === 'unknown run' || p.kind === 'run deleted' ? ledger.get(p.runId) : undefined;
    if (a === undefined) {
      kept.push(p);
      continue;
    }
    const head = p.kind === 'run deleted' ? heads.get(p.runId) : undefined;
    if (head !== undefined && (a.lastSeq < head.lastSeq || (a.lastSeq === head.lastSeq && a.headHash !== head.headHash))) {
      kept.push({
        ...p,
        detail: `${p.detail}; the archive ledger has it archived at seq ${a.lastSeq} with head ${a.headHash.slice(0, 16)}…, which cannot follow the checkpoint's seq ${head.lastSeq} (${head.headHash.slice(0, 16)}…): it was changed before it was archived`,
      });
      continue;
    }
    archived.set(p.runId, a);
  }
  return E.right({ problems: kept, archived: [...archived.values()] });
};
