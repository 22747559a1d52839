import * as E from 'fp-ts/Either';
import { isDeepStrictEqual } from 'node:util';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { decodeEventRow } from '../events/decodeRow';
import type { RecordedEvent, StepReused } from '../events/runEvents';
import { readArchivedRuns } from '../queries/readArchivedRuns';
import { readRunEventAt } from '../queries/readRunEventAt';
import type { AuditProblem } from './problems';

export type Reused = RecordedEvent & { readonly event: StepReused };

export const isReused = (e: RecordedEvent): e is Reused => e.event.type === 'step.reused';

/**
 * A forked run's `step.reused` says "this result is the one run R journaled at seq N". Each run's
 * chain proves only its own events, so verify checks the claim against R's journal: the event is
 * there, is that step's success (or its own reuse), and carried the same result. A source run that
 * the archive ledger holds is not in the journal any more: its events are in the archive, and the
 * claim is not checked here.
 */
export const reusedProvenanceProblems = async (
  db: Database,
  reused: readonly Reused[],
  client?: PoolClient,
): Promise<E.Either<DbFailure, readonly AuditProblem[]>> => {
  const problems: AuditProblem[] = [];
  for (const r of reused) {
    const { fromRun, fromSeq, result } = r.event.payload;
    const where = `step.reused of ${r.event.stepName} names run ${fromRun} seq ${fromSeq}`;
    const problem = (kind: AuditProblem['kind'], detail: string): void => {
      problems.push({ runId: r.runId, seq: r.seq, kind, detail: `${where}: ${detail}` });
    };
    const rows = await readRunEventAt(db, fromRun, fromSeq, client);
    if (E.isLeft(rows)) return rows;
    const row = rows.right[0];
    if (row === undefined) {
      const archived = await readArchivedRuns(db, [fromRun], client);
      if (E.isLeft(archived)) return archived;
      if (archived.right.length === 0) problem('reused source missing', 'that event is not in the journal');
      continue;
    }
    const source = decodeEventRow(row);
    if (E.isLeft(source)) {
      problem('reused source missing', `that event does not decode (${source.left.field}: ${source.left.message})`);
      continue;
    }
    const e = source.right.event;
    if ((e.type !== 'step.succeeded' && e.type !== 'step.reused') || e.stepName !== r.event.stepName) {
      problem('reused result differs', `that event is ${e.type}${'stepName' in e ? ` of ${e.stepName}` : ''}`);
    } else if (!isDeepStrictEqual(e.payload.result, result)) {
      problem(
        'reused result differs',
        `its result is ${JSON.stringify(e.payload.result)}, this run took ${JSON.stringify(result)}`,
      );
    }
  }
  return E.right(problems);
};
