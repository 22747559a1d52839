import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { listChainBreaks, type ChainBreakRow } from '../queries/listChainBreaks';
import type { AuditProblem } from './problems';

/**
 * Recomputes the hash chain of the given runs in one statement and reports every event whose
 * seq does not follow its predecessor (an event was deleted) or whose hash does not match its
 * content and its predecessor's hash (an event was edited). A gap is also reported when seq 1
 * itself is missing.
 */
export const chainBreaks = async (
  db: Database,
  runIds: readonly string[],
  client?: PoolClient,
): Promise<E.Either<DbFailure, AuditProblem[]>> => {
  const rows = await listChainBreaks(db, runIds, client);
  return E.map((rs: readonly ChainBreakRow[]) =>
    rs.map((r): AuditProblem => ({
      runId: r.run_id,
      seq: r.seq,
      kind: r.kind,
      detail:
        r.kind === 'seq gap'
          ? r.seq - r.expected_seq === 1
            ? `seq ${r.expected_seq} is missing`
            : `seqs ${r.expected_seq}..${r.seq - 1} are missing`
          : 'the stored hash does not match the event and its predecessor (the event was changed after it was written)',
    })),
  )(rows);
};
