/**
 * Every expected failure in Orbit is one of these values. Callers `switch` on `_tag`;
 * `formatError` turns any of them into the one line the CLI prints on stderr.
 */
export type OrbitError =
  | DatabaseUnavailable
  | DatabaseError
  | InvalidSchemaName
  | InvalidInput
  | ConcurrencyConflict
  | EventDecodeError
  | IllegalTransition
  | RunNotFound
  | PipelineNotFound
  | InvalidMetadata
  | RunNotResumable
  | RunHasFailedSteps
  | PipelineDrift
  | RunAlreadyClaimed
  | RunStillActive
  | ProjectionMismatch
  | RunNotCancellable
  | EventNotDelivered
  | Fenced
  | RecoveryLimitReached
  | RunFailed
  | RunNotForkable;

/** Any statement can fail these ways: the server is gone, or it refused the statement. */
export type DbFailure = DatabaseUnavailable | DatabaseError;

/**
 * Getting a client (`connect`, or the default client behind every function that takes none):
 * a bad URL or option, a bad schema name, an unreachable server, a schema that needs migrating.
 */
export type ConnectFailure = DbFailure | InvalidInput | InvalidSchemaName;

/** Reading a run's journal: the statement failed or a row does not decode as an event. */
export type ReadFailure = DbFailure | EventDecodeError;

/** Folding a run's journal into its state: a read failure, or an event that cannot follow. */
export type FoldFailure = ReadFailure | IllegalTransition;

/**
 * Appending to a run's journal: an append the journal refuses (empty, an event its codec rejects,
 * one the fold rejects), a stale seq, a run that is not there, or the statement failing.
 */
export type AppendFailure = DbFailure | InvalidInput | ConcurrencyConflict | IllegalTransition | RunNotFound;

/** A resume the run's own journal forbids: finished, failed steps, or a changed pipeline. */
export type ResumeRefusal = RunNotResumable | RunHasFailedSteps | PipelineDrift;

/**
 * Executing a run once it is claimed (or while claiming it): the journal refusing an append
 * (a conflict becomes the caller's claim error before the claim, Fenced after it), a resume the
 * journal forbids, a bad ORBIT_LEASE, or the database failing.
 */
export type ExecuteFailure = Exclude<AppendFailure, ConcurrencyConflict> | ResumeRefusal | Fenced;

/**
 * Starting a run: no client, an unknown pipeline, a bad run id or one already taken
 * (InvalidInput), metadata the pipeline's codec rejects, or executing it failing.
 */
export type RunPipelineFailure = ConnectFailure | PipelineNotFound | InvalidMetadata | ExecuteFailure;

/** Cancelling a run: it is not there, it is finished, or the journal kept changing under us. */
export type CancelFailure = ConnectFailure | FoldFailure | AppendFailure | RunNotCancellable;

/**
 * Sending an event to a run (`sendEvent`, `orbit send`): no such run (or no unfinished run with
 * that correlation key), a run that ended, a step that already took such an event (a duplicate),
 * or the journal failing.
 */
export type SendEventFailure = ConnectFailure | FoldFailure | AppendFailure | EventNotDelivered;

/** Queueing a run: as starting one, short of executing it. */
export type EnqueueFailure = ConnectFailure | PipelineNotFound | InvalidMetadata | Exclude<AppendFailure, ConcurrencyConflict>;

/** Loading a run for recovery: its journal, checked against the projections, and its pipeline. */
export type LoadRecoverableFailure = FoldFailure | RunNotFound | RunAlreadyClaimed | ProjectionMismatch | PipelineNotFound;

/**
 * Resuming a run: loading it, a resume its journal forbids or its live holder prevents, the
 * recovery cap, executing it failing, or a run that ended other than in success.
 */
export type ResumeFailure =
  | ConnectFailure
  | LoadRecoverableFailure
  | ResumeRefusal
  | IllegalTransition
  | RunStillActive
  | RecoveryLimitReached
  | ExecuteFailure
  | RunFailed;

/**
 * Forking a run: no client, the source run unknown or unreadable, its pipeline not registered, a
 * step that is not one of the run's (InvalidInput), a source the fork refuses (still running, its
 * pipeline changed since), or executing the new run failing.
 */
export type ForkFailure =
  ConnectFailure | FoldFailure | RunNotFound | PipelineNotFound | InvalidInput | RunNotForkable | ExecuteFailure;

/**
 * The `Left` of a function that returns (a promise of) an Either: `ErrorOf<typeof resumeRun>` is
 * `ResumeFailure`. What to `switch` on after a failure, and the `error` of `orbit-pipeline/promise`'s
 * `OrbitFailure` for the same name.
 */
export type ErrorOf<F extends (...args: never[]) => unknown> =
  Extract<Awaited<ReturnType<F>>, { readonly _tag: 'Left' }> extends { readonly left: infer L } ? L : never;

/** The database could not be reached or refused the login. Nothing was written. */
export interface DatabaseUnavailable {
  readonly _tag: 'DatabaseUnavailable';
  readonly message: string;
}

/** A statement failed in a way Orbit did not expect (carries the SQLSTATE when there is one). */
export interface DatabaseError {
  readonly _tag: 'DatabaseError';
  readonly message: string;
  readonly code: string | undefined;
}

/** A schema (or channel) name that is not a plain lower-case SQL identifier. */
export interface InvalidSchemaName {
  readonly _tag: 'InvalidSchemaName';
  readonly schema: string;
}

/** Input from a user (CLI argument, option, JSON text) that cannot be used. */
export interface InvalidInput {
  readonly _tag: 'InvalidInput';
  readonly what: string;
  readonly message: string;
}

/** An append stated a seq that is no longer the run's last one: another writer got there first. */
export interface ConcurrencyConflict {
  readonly _tag: 'ConcurrencyConflict';
  readonly runId: string;
  readonly expectedSeq: number;
  readonly actualSeq: number | null;
}

/** A journal row that does not decode as an Orbit event. */
export interface EventDecodeError {
  readonly _tag: 'EventDecodeError';
  readonly runId: string;
  readonly seq: number;
  readonly type: string;
  readonly field: string;
  readonly message: string;
}

/** An event that cannot follow the run's state (a step succeeding twice, an event after the end). */
export interface IllegalTransition {
  readonly _tag: 'IllegalTransition';
  readonly runId: string;
  readonly seq: number;
  readonly type: string;
  readonly reason: string;
}

export interface RunNotFound {
  readonly _tag: 'RunNotFound';
  readonly runId: string;
}

export interface PipelineNotFound {
  readonly _tag: 'PipelineNotFound';
  readonly pipelineId: string;
  readonly known: readonly string[];
}

export interface InvalidMetadata {
  readonly _tag: 'InvalidMetadata';
  readonly pipelineId: string;
  readonly message: string;
}

/** The run is finished (succeeded or cancelled) or otherwise not in a state recovery may touch. */
export interface RunNotResumable {
  readonly _tag: 'RunNotResumable';
  readonly runId: string;
  readonly status: string;
  readonly reason: string;
}

export interface RunHasFailedSteps {
  readonly _tag: 'RunHasFailedSteps';
  readonly runId: string;
  readonly failedSteps: readonly string[];
}

export interface PipelineDrift {
  readonly _tag: 'PipelineDrift';
  readonly runId: string;
  readonly pipelineId: string;
  readonly journaled: readonly string[];
  readonly registered: readonly string[];
}

/** Another recovery process (or a live worker) claimed the run first. */
export interface RunAlreadyClaimed {
  readonly _tag: 'RunAlreadyClaimed';
  readonly runId: string;
}

/** The run's holder is alive (recent event or heartbeat): it is running, not interrupted. */
export interface RunStillActive {
  readonly _tag: 'RunStillActive';
  readonly runId: string;
  readonly owner: string;
  readonly lastActivityAt: string | null;
  readonly thresholdMs: number;
  /** Set when the owner holds a valid lease on the run: it is being executed right now. */
  readonly leaseUntil?: string | null;
}

export interface ProjectionMismatch {
  readonly _tag: 'ProjectionMismatch';
  readonly runId: string;
  readonly differences: readonly string[];
}

export interface RunNotCancellable {
  readonly _tag: 'RunNotCancellable';
  readonly runId: string;
  readonly status: string;
}

/**
 * An event was not delivered to a run: it ended, no step of its pipeline waits for that event,
 * every step that waits for it already has one (a duplicate), or a correlation key matched no
 * unfinished run or several. `runId` is null when no run was found by the key.
 */
export interface EventNotDelivered {
  readonly _tag: 'EventNotDelivered';
  readonly runId: string | null;
  readonly event: string;
  readonly reason: string;
}

/** This executor lost the run to another writer; it must stop writing for it. */
export interface Fenced {
  readonly _tag: 'Fenced';
  readonly runId: string;
}

/** A run was recovered too many times (its steps keep killing their worker). */
export interface RecoveryLimitReached {
  readonly _tag: 'RecoveryLimitReached';
  readonly runId: string;
  readonly attempts: number;
}

/** A run that was executed (or resumed) to its end, and its end was not success. */
export interface RunFailed {
  readonly _tag: 'RunFailed';
  readonly runId: string;
  readonly status: string;
  readonly reason: string;
}

/** A run `forkRun` will not copy: it has not ended yet, or its pipeline changed since it was created. */
export interface RunNotForkable {
  readonly _tag: 'RunNotForkable';
  readonly runId: string;
  readonly status: string;
  readonly reason: string;
}

const stepList = (names: readonly string[]): string => (names.length === 0 ? '(none)' : names.join(', '));

/** One line, fit for stderr, that says what went wrong and where. */
export const formatError = (e: OrbitError): string => {
  switch (e._tag) {
    case 'DatabaseUnavailable':
      return `Cannot reach the database: ${e.message}`;
    case 'DatabaseError':
      return `Database error${e.code ? ` ${e.code}` : ''}: ${e.message}`;
    case 'InvalidSchemaName':
      return `Invalid schema name ${JSON.stringify(e.schema)}: use lower-case letters, digits and _ (at most 48 characters, not starting with a digit or pg_; not public or information_schema)`;
    case 'InvalidInput':
      return `Invalid ${e.what}: ${e.message}`;
    case 'ConcurrencyConflict':
      return `Concurrency conflict on run ${e.runId}: expected seq ${e.expectedSeq}, journal is at ${e.actualSeq ?? 'unknown'}`;
    case 'EventDecodeError':
      return `Undecodable event in run ${e.runId} at seq ${e.seq} (${e.type}): field ${e.field}: ${e.message}`;
    case 'IllegalTransition':
      return `Illegal event in run ${e.runId} at seq ${e.seq} (${e.type}): ${e.reason}`;
    case 'RunNotFound':
      return `Run not found: ${e.runId}`;
    case 'PipelineNotFound':
      return `Pipeline "${e.pipelineId}" is not registered: the pipeline definition must be available (registered: ${stepList(e.known)})`;
    case 'InvalidMetadata':
      return `Invalid metadata for pipeline "${e.pipelineId}": ${e.message}`;
    case 'RunNotResumable':
      return `Run ${e.runId} cannot be resumed: ${e.reason}`;
    case 'RunHasFailedSteps':
      return `Run has ${e.failedSteps.length} failed step(s), cannot auto-resume`;
    case 'PipelineDrift':
      return `Pipeline "${e.pipelineId}" changed since run ${e.runId} started: journaled steps [${e.journaled.join(', ')}], registered steps [${e.registered.join(', ')}] (use --force to resume anyway)`;
    case 'RunAlreadyClaimed':
      return `Run ${e.runId} was already claimed by another process`;
    case 'RunStillActive':
      if (e.leaseUntil != null) {
        return `Run ${e.runId} is being executed: worker ${e.owner} holds a valid lease on it (until ${e.leaseUntil}); no threshold changes that. Wait for it, stop that worker, or take it over with --force (its running step may then run twice)`;
      }
      return `Run ${e.runId} is not interrupted: worker ${e.owner} showed activity at ${e.lastActivityAt ?? 'an unknown time'}, within the threshold of ${Math.round(e.thresholdMs / 1000)} s (wait, lower --threshold, or use --force)`;
    case 'ProjectionMismatch':
      return `Projections disagree with the journal for run ${e.runId}: ${e.differences.join('; ')}`;
    case 'EventNotDelivered':
      return `Event ${JSON.stringify(e.event)} not delivered${e.runId !== null ? ` to run ${e.runId}` : ''}: ${e.reason}`;
    case 'RunNotCancellable':
      return `Run ${e.runId} cannot be cancelled: ${
        e.status === 'success'
          ? 'it has already succeeded'
          : e.status === 'failed'
            ? 'it has already failed'
            : e.status === 'cancelled'
              ? 'it was already cancelled'
              : `it has already ended (${e.status})`
      }`;
    case 'Fenced':
      return `Run ${e.runId} was taken over by another writer; this process stopped writing to it`;
    case 'RunFailed':
      return `Run ${e.runId} ended ${e.status}: ${e.reason}`;
    case 'RunNotForkable':
      return `Run ${e.runId} cannot be forked: ${e.reason}`;
    case 'RecoveryLimitReached':
      return `Run ${e.runId} was taken over ${e.attempts} times without finishing; giving up (a step may be killing its worker)`;
    default:
      return assertNever(e);
  }
};

/** Constructors keep call sites short and the tags spelled once: one per tag. */
export const OrbitErrors = {
  databaseUnavailable: (message: string): DatabaseUnavailable => ({ _tag: 'DatabaseUnavailable', message }),
  databaseError: (message: string, code?: string): DatabaseError => ({ _tag: 'DatabaseError', message, code }),
  invalidSchemaName: (schema: string): InvalidSchemaName => ({ _tag: 'InvalidSchemaName', schema }),
  invalidInput: (what: string, message: string): InvalidInput => ({ _tag: 'InvalidInput', what, message }),
  concurrencyConflict: (runId: string, expectedSeq: number, actualSeq: number | null): ConcurrencyConflict => ({
    _tag: 'ConcurrencyConflict',
    runId,
    expectedSeq,
    actualSeq,
  }),
  eventDecodeError: (runId: string, seq: number, type: string, field: string, message: string): EventDecodeError => ({
    _tag: 'EventDecodeError',
    runId,
    seq,
    type,
    field,
    message,
  }),
  illegalTransition: (runId: string, seq: number, type: string, reason: string): IllegalTransition => ({
    _tag: 'IllegalTransition',
    runId,
    seq,
    type,
    reason,
  }),
  runNotFound: (runId: string): RunNotFound => ({ _tag: 'RunNotFound', runId }),
  pipelineNotFound: (pipelineId: string, known: readonly string[]): PipelineNotFound => ({
    _tag: 'PipelineNotFound',
    pipelineId,
    known,
  }),
  invalidMetadata: (pipelineId: string, message: string): InvalidMetadata => ({ _tag: 'InvalidMetadata', pipelineId, message }),
  runNotResumable: (runId: string, status: string, reason: string): RunNotResumable => ({
    _tag: 'RunNotResumable',
    runId,
    status,
    reason,
  }),
  runHasFailedSteps: (runId: string, failedSteps: readonly string[]): RunHasFailedSteps => ({
    _tag: 'RunHasFailedSteps',
    runId,
    failedSteps,
  }),
  pipelineDrift: (
    runId: string,
    pipelineId: string,
    journaled: readonly string[],
    registered: readonly string[],
  ): PipelineDrift => ({ _tag: 'PipelineDrift', runId, pipelineId, journaled, registered }),
  runAlreadyClaimed: (runId: string): RunAlreadyClaimed => ({ _tag: 'RunAlreadyClaimed', runId }),
  runStillActive: (
    runId: string,
    owner: string,
    lastActivityAt: string | null,
    thresholdMs: number,
    leaseUntil: string | null = null,
  ): RunStillActive => ({
    _tag: 'RunStillActive',
    runId,
    owner,
    lastActivityAt,
    thresholdMs,
    leaseUntil,
  }),
  projectionMismatch: (runId: string, differences: readonly string[]): ProjectionMismatch => ({
    _tag: 'ProjectionMismatch',
    runId,
    differences,
  }),
  runNotCancellable: (runId: string, status: string): RunNotCancellable => ({ _tag: 'RunNotCancellable', runId, status }),
  eventNotDelivered: (runId: string | null, event: string, reason: string): EventNotDelivered => ({
    _tag: 'EventNotDelivered',
    runId,
    event,
    reason,
  }),
  fenced: (runId: string): Fenced => ({ _tag: 'Fenced', runId }),
  recoveryLimitReached: (runId: string, attempts: number): RecoveryLimitReached => ({
    _tag: 'RecoveryLimitReached',
    runId,
    attempts,
  }),
  runFailed: (runId: string, status: string, reason: string): RunFailed => ({ _tag: 'RunFailed', runId, status, reason }),
  runNotForkable: (runId: string, status: string, reason: string): RunNotForkable => ({
    _tag: 'RunNotForkable',
    runId,
    status,
    reason,
  }),
} satisfies {
  readonly [K in Uncapitalize<OrbitError['_tag']>]: (...args: never[]) => Extract<OrbitError, { _tag: Capitalize<K> }>;
};

/**
 * Ends every switch over a union (event types, error tags): adding a member makes the switch fail
 * to compile until the new case is handled. Reaching it at run time is a programmer error.
 */
export const assertNever = (x: never): never => {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
};
