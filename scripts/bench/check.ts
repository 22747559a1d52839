import * as E from 'fp-ts/Either';
import type { Database } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { verifyJournal } from '../../src/journal/verifyJournal';
import { checkProjections } from '../../src/projections/checkProjections';

/**
 * Replays seeded runs through the library's own checks: the hash chain (verifyJournal) and
 * fold(journal) == projections (checkProjections, which also decodes every event). A seed the
 * code would reject stops the bench instead of producing figures about a journal it cannot read.
 */
export const checkSeededRuns = async (db: Database, runIds: readonly string[]): Promise<void> => {
  for (const id of runIds) {
    const breaks = await verifyJournal(db, id);
    if (E.isLeft(breaks)) throw new Error(`seed check: ${formatError(breaks.left)}`);
    if (breaks.right.length > 0) throw new Error(`seed check: hash chain of ${id} breaks at seq ${breaks.right[0]?.seq} (${breaks.right[0]?.reason})`);
  }
  const report = await checkProjections(db, runIds);
  if (E.isLeft(report)) throw new Error(`seed check: ${formatError(report.left)}`);
  const d = report.right.differences[0];
  if (d) throw new Error(`seed check: projection of ${d.runId} differs at ${d.field}: ${JSON.stringify(d.projected)} vs journal ${JSON.stringify(d.folded)}`);
};
