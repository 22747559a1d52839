import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import type { ChainBreak } from './chainBreak';
import { listChainBreaks, type ChainBreakRow } from '../queries/listChainBreaks';

export type { ChainBreak } from './chainBreak';

/**
 * Recomputes the hash chain of one run (or of every run) in the database. Any edit of an event
 * after it was written (which needs a superuser to disable the trigger) breaks the chain at that
 * event; a deleted event shows as a seq gap.
 */
export const verifyJournal = async (db: Database, runId?: string): Promise<E.Either<DbFailure, ChainBreak[]>> =>
  E.map((rs: readonly ChainBreakRow[]) => rs.map((r): ChainBreak => ({ runId: r.run_id, seq: r.seq, reason: r.kind })))(
    await listChainBreaks(db, runId === undefined ? null : [runId]),
  );
