import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { readRunChainHead } from '../queries/readRunChainHead';
import { auditJournal } from './auditJournal';
import type { RunVerification } from './runVerification';

/** Audits one run's journal (what `orbit verify --run` checks) and reads the head of its hash chain. */
export const verifyRun = async (db: Database, runId: string): Promise<E.Either<DbFailure, RunVerification>> => {
  const report = await auditJournal(db, [runId]);
  if (E.isLeft(report)) return report;
  const head = await readRunChainHead(db, runId);
  if (E.isLeft(head)) return head;
  const h = head.right[0];
  return E.right({
    runId,
    verified: report.right.problems.length === 0,
    journalIntact: !report.right.brokenRuns.includes(runId),
    problems: report.right.problems.map((p) => `${p.seq === null ? '' : `seq ${p.seq}: `}${p.kind}: ${p.detail}`),
    lastSeq: h?.seq ?? 0,
    lastHash: h?.hash ?? null,
  });
};
