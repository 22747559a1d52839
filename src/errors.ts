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
  | Fenced
  | RecoveryLimitReached
  | RunFailed;

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
    case 'RunNotCancellable':
      return `Run ${e.runId} cannot be cancelled: it is ${e.status}`;
    case 'Fenced':
      return `Run ${e.runId} was taken over by another writer; this process stopped writing to it`;
    case 'RunFailed':
      return `Run ${e.runId} ended ${e.status}: ${e.reason}`;
    case 'RecoveryLimitReached':
      return `Run ${e.runId} was taken over ${e.attempts} times without finishing; giving up (a step may be killing its worker)`;
    default:
      return assertNever(e);
  }
};

/** Constructors keep call sites short and the tags spelled once: one per tag. */
export const OrbitErrors = {
  databaseUnavailable: (message: string): OrbitError => ({ _tag: 'DatabaseUnavailable', message }),
  databaseError: (message: string, code?: string): OrbitError => ({ _tag: 'DatabaseError', message, code }),
  invalidSchemaName: (schema: string): OrbitError => ({ _tag: 'InvalidSchemaName', schema }),
  invalidInput: (what: string, message: string): OrbitError => ({ _tag: 'InvalidInput', what, message }),
  concurrencyConflict: (runId: string, expectedSeq: number, actualSeq: number | null): OrbitError => ({
    _tag: 'ConcurrencyConflict',
    runId,
    expectedSeq,
    actualSeq,
  }),
  eventDecodeError: (runId: string, seq: number, type: string, field: string, message: string): OrbitError => ({
    _tag: 'EventDecodeError',
    runId,
    seq,
    type,
    field,
    message,
  }),
  illegalTransition: (runId: string, seq: number, type: string, reason: string): OrbitError => ({
    _tag: 'IllegalTransition',
    runId,
    seq,
    type,
    reason,
  }),
  runNotFound: (runId: string): OrbitError => ({ _tag: 'RunNotFound', runId }),
  pipelineNotFound: (pipelineId: string, known: readonly string[]): OrbitError => ({
    _tag: 'PipelineNotFound',
    pipelineId,
    known,
  }),
  invalidMetadata: (pipelineId: string, message: string): OrbitError => ({ _tag: 'InvalidMetadata', pipelineId, message }),
  runNotResumable: (runId: string, status: string, reason: string): OrbitError => ({
    _tag: 'RunNotResumable',
    runId,
    status,
    reason,
  }),
  runHasFailedSteps: (runId: string, failedSteps: readonly string[]): OrbitError => ({
    _tag: 'RunHasFailedSteps',
    runId,
    failedSteps,
  }),
  pipelineDrift: (
    runId: string,
    pipelineId: string,
    journaled: readonly string[],
    registered: readonly string[],
  ): OrbitError => ({ _tag: 'PipelineDrift', runId, pipelineId, journaled, registered }),
  runAlreadyClaimed: (runId: string): OrbitError => ({ _tag: 'RunAlreadyClaimed', runId }),
  runStillActive: (
    runId: string,
    owner: string,
    lastActivityAt: string | null,
    thresholdMs: number,
    leaseUntil: string | null = null,
  ): OrbitError => ({
    _tag: 'RunStillActive',
    runId,
    owner,
    lastActivityAt,
    thresholdMs,
    leaseUntil,
  }),
  projectionMismatch: (runId: string, differences: readonly string[]): OrbitError => ({
    _tag: 'ProjectionMismatch',
    runId,
    differences,
  }),
  runNotCancellable: (runId: string, status: string): OrbitError => ({ _tag: 'RunNotCancellable', runId, status }),
  fenced: (runId: string): OrbitError => ({ _tag: 'Fenced', runId }),
  recoveryLimitReached: (runId: string, attempts: number): OrbitError => ({ _tag: 'RecoveryLimitReached', runId, attempts }),
  runFailed: (runId: string, status: string, reason: string): OrbitError => ({ _tag: 'RunFailed', runId, status, reason }),
} satisfies { readonly [K in Uncapitalize<OrbitError['_tag']>]: (...args: never[]) => OrbitError };

/**
 * Ends every switch over a union (event types, error tags): adding a member makes the switch fail
 * to compile until the new case is handled. Reaching it at run time is a programmer error.
 */
export const assertNever = (x: never): never => {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
};
