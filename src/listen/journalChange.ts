/**
 * What a journal watch reports, apart from the watch itself (watchJournal.ts): the public types
 * (`watchRuns`) stay free of the database layer.
 */

/** Something was journaled for `runId`; null when so much was journaled that every run may have changed. */
export interface JournalChange {
  readonly runId: string | null;
}

export interface JournalWatch {
  close(): Promise<void>;
}
