import * as E from 'fp-ts/Either';
import type { ExportedEvent } from '../audit/exportFormat';
import { exportRuns as exportAll } from '../audit/exportRuns';
import type { ExportSelection } from '../audit/exportSelection';
import type { ConnectFailure, RunNotFound } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { ExportSelection } from '../audit/exportSelection';
export type { ExportedEvent } from '../audit/exportFormat';

/**
 * The selected runs' events as stored, hashes included, a batch at a time (what `orbit export`
 * writes; `verifyExport` checks it). The first Left ends it; a named run with no events is RunNotFound.
 */
export async function* exportRuns(
  selection: ExportSelection,
  opts: ClientOption = {},
): AsyncGenerator<E.Either<ConnectFailure | RunNotFound, ExportedEvent[]>, void, undefined> {
  const c = await clientOr(opts.client);
  if (E.isLeft(c)) {
    yield c;
    return;
  }
  yield* exportAll(c.right.readDb, selection);
}
