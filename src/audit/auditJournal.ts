import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { withTransaction } from '../db/database';
import type { DbFailure } from '../errors';
import { listKnownRunIds } from '../queries/listKnownRunIds';
import { forEachPage } from '../util/forEachPage';
import { auditRun } from './auditRun';
import type { AuditReport } from './auditReport';
import { isJournalProblem, type AuditProblem } from './problems';

export type { AuditReport } from './auditReport';

const PAGE = 500;

/**
 * Audits every run (or the given ones): hash chain, seq order, decoding, legality of every event,
 * projection rows against the fold, orphan step rows. It never stops at a damaged run: each
 * problem is recorded and the next run is checked. Each run is read in one snapshot, so appends
 * happening meanwhile cannot show up as false differences. Only a database failure is a Left.
 */
export const auditJournal = async (db: Database, runIds?: readonly string[]): Promise<E.Either<DbFailure, AuditReport>> => {
  const problems: AuditProblem[] = [];
  const broken: string[] = [];
  let checked = 0;
  const visit = async (ids: readonly string[]): Promise<E.Either<DbFailure, void>> => {
    for (const id of ids) {
      const r = await withTransaction(db, (client) => auditRun(db, id, client), { snapshot: true });
      if (E.isLeft(r)) return r;
      checked += 1;
      problems.push(...r.right.problems);
      if (r.right.problems.some(isJournalProblem)) broken.push(id);
    }
    return E.right(undefined);
  };
  const done = () => ({ runsChecked: checked, problems, brokenRuns: broken });

  // Every run id known anywhere: the journal (even with seq 1 deleted), runs rows, steps rows.
  const visited =
    runIds !== undefined ? await visit(runIds) : await forEachPage('', (after) => listKnownRunIds(db, after, PAGE), visit);
  return E.map(done)(visited);
};
