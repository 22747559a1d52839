/** What `verify` can find wrong with a run. */
export type AuditProblemKind =
  /** A seq is missing: an event was deleted (or the run's first events were). */
  | 'seq gap'
  /** An event's stored hash is not what its content and its predecessor say: it was edited. */
  | 'hash mismatch'
  /** A row that does not decode as an Orbit event. */
  | 'undecodable event'
  /** An event that cannot follow the run's state (e.g. anything after the run ended). */
  | 'illegal event'
  /** The fold of the journal has a row (run or step) the projection tables lack. */
  | 'projection row missing'
  /** The projection tables have a row the fold of the journal does not. */
  | 'projection row extra'
  /** A projection field differs from the fold of the journal. */
  | 'projection differs'
  /** A `steps` row whose run has neither a `runs` row nor any journal event. */
  | 'orphan step row'
  /** A run id that was asked for and is known to neither the journal nor the projections. */
  | 'unknown run'
  /** An export line that is not a JSON event record, or a run whose events are not together. */
  | 'malformed export line'
  /** Export: no manifest (cut short or empty), or a run the manifest lists is missing or shorter. */
  | 'export incomplete'
  /** Checkpoint: the file itself does not match its digest, root or key. */
  | 'checkpoint altered'
  /** Checkpoint: no key was given, so nothing proves the file was not forged (see --trust-unsigned). */
  | 'checkpoint not authenticated'
  /** Checkpoint: a run it lists has no events any more. */
  | 'run deleted'
  /** Checkpoint: the run's head event at the checkpoint is gone, or seqs before it are missing. */
  | 'event deleted'
  /** Checkpoint: the run's head hash differs: events up to it were edited and the chain recomputed. */
  | 'events rewritten'
  /** Checkpoint: a run that began before the checkpoint but is not in it (inserted afterwards). */
  | 'run not in checkpoint'
  /** Fork: a `step.reused` names a source event that is in neither the journal nor the archive ledger. */
  | 'reused source missing'
  /** Fork: the source event is not that step's success, or its result is not the one reused. */
  | 'reused result differs';

/** One problem, with where it is and what differs, in words an auditor can act on. */
export interface AuditProblem {
  readonly runId: string;
  /** The journal seq it concerns, when it concerns one event. */
  readonly seq: number | null;
  readonly kind: AuditProblemKind;
  /** What differs, e.g. `steps[load].result: table has "x", journal says "y"`. */
  readonly detail: string;
}

const JOURNAL_KINDS: ReadonlySet<AuditProblemKind> = new Set([
  'seq gap',
  'hash mismatch',
  'undecodable event',
  'illegal event',
  'malformed export line',
  'export incomplete',
  'checkpoint altered',
  'checkpoint not authenticated',
  'run deleted',
  'event deleted',
  'events rewritten',
  'run not in checkpoint',
  'reused source missing',
  'reused result differs',
]);

/** Whether the problem is in the journal itself (as opposed to the projection cache). */
export const isJournalProblem = (p: AuditProblem): boolean => JOURNAL_KINDS.has(p.kind);

/** The `runId` of a problem with the checkpoint file itself rather than with a run. */
export const CHECKPOINT = '(checkpoint)';

/** One line for a terminal: `run r-3 seq 6: seq gap: ...`. */
export const describeProblem = (p: AuditProblem): string =>
  `${p.runId === CHECKPOINT ? 'checkpoint file' : `run ${p.runId}`}${p.seq === null ? '' : ` seq ${p.seq}`}: ${p.kind}: ${p.detail}`;
