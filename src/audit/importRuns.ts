import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { withTransaction } from '../db/database';
import type { OrbitError } from '../errors';
import { toRunRow, toStepRow, type RunRow, type StepRow } from '../fold/projectionRows';
import { insertImportedEvents } from '../queries/insertImportedEvents';
import { insertRunRows, insertStepRows } from '../queries/insertProjectionRows';
import { listExistingRunIds } from '../queries/listExistingRunIds';
import { chainBreaks } from './chainBreaks';
import { describeProblem } from './problems';
import type { ExportReport } from './verifyExport';

export interface ImportReport {
  readonly runsImported: number;
  readonly eventsImported: number;
}

/**
 * Loads a verified export into this database's journal, with the exported hashes, and writes the
 * runs' projection rows, all in one transaction. Refused, with nothing written, when the export
 * has any problem, when a run already exists here, or when this database's `event_hash` does not
 * reproduce the exported chain.
 */
export const importRuns = (db: Database, exported: ExportReport): Promise<E.Either<OrbitError, ImportReport>> => {
  const first = exported.problems[0];
  if (first !== undefined) {
    return Promise.resolve(
      E.left({
        _tag: 'InvalidInput',
        what: 'export',
        message: `${exported.problems.length} problem(s), the first: ${describeProblem(first)}`,
      }),
    );
  }
  const ids = [...exported.runs.keys()];
  return withTransaction(db, async (client): Promise<E.Either<OrbitError, ImportReport>> => {
    const existing = await listExistingRunIds(db, ids, 5, client);
    if (E.isLeft(existing)) return existing;
    if (existing.right.length > 0) {
      return E.left({
        _tag: 'InvalidInput',
        what: 'export',
        message: `run(s) already in this database: ${existing.right.map((r) => r.id).join(', ')}`,
      });
    }
    let events = 0;
    const runRows: RunRow[] = [];
    const stepRows: StepRow[] = [];
    for (const [id, run] of exported.runs) {
      if (run.state === null) continue;
      events += run.events.length;
      // Batches keep each statement's parameter small on long histories.
      for (let i = 0; i < run.events.length; i += 1000) {
        const inserted = await insertImportedEvents(db, run.events.slice(i, i + 1000), client);
        if (E.isLeft(inserted)) return inserted;
      }
      runRows.push(toRunRow(run.state));
      for (const s of run.state.steps) stepRows.push(toStepRow(id, s));
    }
    // The journal here must reproduce the chain (same hash function, same jsonb text).
    const breaks = await chainBreaks(db, ids, client);
    if (E.isLeft(breaks)) return breaks;
    const firstBreak = breaks.right[0];
    if (firstBreak !== undefined) {
      return E.left({
        _tag: 'InvalidInput',
        what: 'export',
        message: `refused, the chain does not verify here: ${describeProblem(firstBreak)}`,
      });
    }
    const runsWritten = await insertRunRows(db, runRows, client);
    if (E.isLeft(runsWritten)) return runsWritten;
    const stepsWritten = await insertStepRows(db, stepRows, client);
    if (E.isLeft(stepsWritten)) return stepsWritten;
    return E.right({ runsImported: runRows.length, eventsImported: events });
  });
};
