import * as E from 'fp-ts/Either';
import { auditJournal as audit } from '../audit/auditJournal';
// Types from modules of types only: the published .d.ts must not load the pool-taking modules.
import type { AuditReport } from '../audit/auditReport';
import type { ConnectFailure } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { AuditReport } from '../audit/auditReport';
export type { AuditProblem, AuditProblemKind } from '../audit/problems';

export interface AuditJournalOptions extends ClientOption {
  /** Only these runs. Default: every run. */
  readonly runIds?: readonly string[];
}

/**
 * Audits every run (or the given ones): hash chain, seq order, decoding, legality of every event,
 * projections against the fold (what `orbit verify` prints). A damaged run is a problem in the
 * report, not a Left: only a database failure is.
 */
export const auditJournal = async (opts: AuditJournalOptions = {}): Promise<E.Either<ConnectFailure, AuditReport>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : audit(c.right.readDb, opts.runIds);
};
