import * as E from 'fp-ts/Either';
import type { RunVerification } from '../audit/runVerification';
import { verifyRun as verify } from '../audit/verifyRun';
import type { ConnectFailure } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { RunVerification } from '../audit/runVerification';

/** Audits one run (hash chain, order, legality, projections) and returns its chain's head (seq, hash). */
export const verifyRun = async (runId: string, opts: ClientOption = {}): Promise<E.Either<ConnectFailure, RunVerification>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : verify(c.right.readDb, runId);
};
