import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query, withTransaction } from '../db/database';
import type { OrbitError } from '../errors';
import { auditRun } from './auditRun';
import { isJournalProblem, type AuditProblem } from './problems';

/** What `verify` found. */
export interface AuditReport {
  readonly runsChecked: number;
  /** Every problem found, run by run in id order; empty when everything verifies. */
  readonly problems: readonly AuditProblem[];
  /** Runs with at least one problem in the journal itself (not only in the projections). */
  readonly brokenRuns: readonly string[];
}

const PAGE = 500;

/**
 * Audits every run (or the given ones): hash chain, seq order, decoding, legality of every event,
 * projection rows against the fold, orphan step rows. It never stops at a damaged run: each
 * problem is recorded and the next run is checked. Each run is read in one snapshot, so appends
 * happening meanwhile cannot show up as false differences. Only a database failure is a Left.
 */
export const auditJournal = async (db: Database, runIds?: readonly string[]): Promise<E.Either<OrbitError, AuditReport>> => {
  const problems: AuditProblem[] = [];
  const broken: string[] = [];
  let checked = 0;
  const visit = async (ids: readonly string[]): Promise<E.Either<OrbitError, void>> => {
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

  if (runIds !== undefined) return E.map(done)(await visit(runIds));
  let after = '';
  for (;;) {
    // Every run id known anywhere: the journal (even with seq 1 deleted), runs rows, steps rows.
    const page = await query<{ id: string }>(
      db,
      // Each branch stops after a page (an index scan with a limit), so paging stays linear.
      `SELECT id FROM (
         (SELECT DISTINCT run_id AS id FROM ${db.qs}.run_events WHERE run_id > $1 ORDER BY 1 LIMIT ${PAGE})
         UNION (SELECT id FROM ${db.qs}.runs WHERE id > $1 ORDER BY 1 LIMIT ${PAGE})
         UNION (SELECT DISTINCT run_id FROM ${db.qs}.steps WHERE run_id > $1 ORDER BY 1 LIMIT ${PAGE})) ids
       ORDER BY id LIMIT ${PAGE}`,
      [after],
    );
    if (E.isLeft(page)) return page;
    if (page.right.length === 0) break;
    const r = await visit(page.right.map((p) => p.id));
    if (E.isLeft(r)) return r;
    after = (page.right[page.right.length - 1] as { id: string }).id;
  }
  return E.right(done());
};
