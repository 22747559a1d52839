import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import type { JournalChange, JournalWatch } from '../listen/journalChange';
import { watchJournal } from '../listen/watchJournal';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export type { JournalChange, JournalWatch } from '../listen/journalChange';

export interface WatchRunsOptions extends ClientOption {
  /** How often the journal's head is polled for events that send no NOTIFY (ms). Default 500. */
  readonly pollMs?: number;
}

/**
 * Calls `onChange` whenever any run changes, until `close()`: one LISTEN connection (NOTIFY for
 * transitions) plus a poll of the journal's head for everything else. The dashboard's live
 * updates: however many browsers watch, the database sees one listener.
 */
export const watchRuns = async (
  onChange: (change: JournalChange) => void,
  opts: WatchRunsOptions = {},
): Promise<E.Either<ConnectFailure, JournalWatch>> => {
  const c = await clientOr(opts.client);
  return E.isLeft(c) ? c : watchJournal(c.right.db, onChange, opts.pollMs ?? 500);
};
