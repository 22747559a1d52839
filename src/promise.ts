/**
 * `orbit-pipeline/promise`: the library API in the spec's plain shapes. The root entry point
 * returns fp-ts `Either` values; here the same names resolve to the plain value and reject with an
 * `OrbitFailure` that carries the tagged error (`failure.error._tag`). `resumeRun` keeps the
 * spec's `{ success, stepsExecuted, error }` result instead of rejecting, as the spec shows it.
 */
import * as E from 'fp-ts/Either';
import { formatError, type OrbitError, type ResumeFailure } from './errors';
import type { RunResult } from './executor/executeRun';
import type { RunPipelineOptions } from './executor/runPipeline';
import type { RunState } from './fold/runState';
import * as root from './index';
import type { JsonObject, Pipeline, StepContext } from './pipeline/types';
import type { RecoverySummary } from './recovery/orchestrator';
import type { ResumeSuccess } from './recovery/resumeRun';

export {
  definePipeline,
  PipelineDefinitionError,
  registry,
  createRegistry,
  NonRetryableError,
  DEFAULT_RETRY,
  retryDelayMs,
  closeDefaultClient,
  DEFAULT_THRESHOLD_MS,
  formatError,
} from './index';
export type * from './index';

/**
 * The rejection of every function here: an Error whose `error` is the tagged error. A promise's
 * rejection has no static type, so narrow it yourself: a function's rejection carries exactly the
 * root function's `Left`, `OrbitFailure<ErrorOf<typeof root.listRuns>>` (ErrorOf is exported).
 */
export class OrbitFailure<L extends OrbitError = OrbitError> extends Error {
  constructor(readonly error: L) {
    super(formatError(error));
    this.name = 'OrbitFailure';
  }
}

const unwrap = async <L extends OrbitError, A>(p: Promise<E.Either<L, A>>): Promise<A> => {
  const r = await p;
  if (E.isLeft(r)) throw new OrbitFailure(r.left);
  return r.right;
};

export const connect = (opts?: root.ConnectOptions): Promise<root.OrbitClient> => unwrap(root.connect(opts));

export const parseDuration = (text: string, what?: string): number => {
  const r = root.parseDuration(text, what);
  if (E.isLeft(r)) throw new OrbitFailure(r.left);
  return r.right;
};

export function runPipeline<M>(pipeline: Pipeline<M>, metadata: M, options?: RunPipelineOptions): Promise<RunResult>;
export function runPipeline(name: string, metadata?: JsonObject, options?: RunPipelineOptions): Promise<RunResult>;
export function runPipeline(
  pipeline: Pipeline<unknown> | string,
  metadata?: unknown,
  options?: RunPipelineOptions,
): Promise<RunResult> {
  return unwrap(
    typeof pipeline === 'string'
      ? root.runPipeline(pipeline, metadata as JsonObject | undefined, options)
      : root.runPipeline(pipeline, metadata, options),
  );
}

export const cancelRun = (runId: string, options?: root.CancelOptions): Promise<RunState> =>
  unwrap(root.cancelRun(runId, options));

export const detectInterruptedRuns = (options?: root.DetectOptions): Promise<root.InterruptedRun[]> =>
  unwrap(root.detectInterruptedRuns(options));

export const analyzeStepCompletion = (
  runId: string,
  options?: { readonly client?: root.OrbitClient },
): Promise<root.StepAnalysis> => unwrap(root.analyzeStepCompletion(runId, options));

export const reconstructStepContext = (
  runId: string,
  pipelineId: string,
  options?: root.ReconstructOptions,
): Promise<StepContext<unknown>> => unwrap(root.reconstructStepContext(runId, pipelineId, options));

/** The spec's result: `success`, `stepsExecuted`, and on failure `error` as one line of text. */
export type ResumeOutcome =
  | (ResumeSuccess & { readonly success: true })
  | { readonly success: false; readonly runId: string; readonly error: string; readonly failure: ResumeFailure };

/** Resumes an interrupted run; never rejects: a refusal or failure is `{ success: false, error }`. */
export const resumeRun = async (runId: string, options?: root.ResumeOptions): Promise<ResumeOutcome> => {
  const r = await root.resumeRun(runId, options);
  return E.isLeft(r) ? { success: false, runId, error: formatError(r.left), failure: r.left } : { ...r.right, success: true };
};

/** Detects interrupted runs and resumes each; resolves to the summary. */
export class RunRecoveryOrchestrator {
  private readonly inner: root.RunRecoveryOrchestrator;
  constructor(options: root.OrchestratorOptions = {}) {
    this.inner = new root.RunRecoveryOrchestrator(options);
  }
  async recoverInterruptedRuns(): Promise<RecoverySummary> {
    const r = await this.inner.recoverInterruptedRuns();
    if (E.isLeft(r)) throw new OrbitFailure(r.left);
    return r.right;
  }
}

export const recoveryStats = (options?: {
  readonly client?: root.OrbitClient;
  readonly sinceMs?: number;
}): Promise<root.RecoveryStats> => unwrap(root.recoveryStats(options));

export const listRuns = (opts?: root.ListRunsOptions & root.ClientOption): Promise<root.RunSummary[]> =>
  unwrap(root.listRuns(opts));

export const readRunEvents = (
  runId: string,
  opts?: root.ClientOption & { readonly afterSeq?: number },
): Promise<root.RecordedEvent[]> => unwrap(root.readRunEvents(runId, opts));

export const loadRunState = (runId: string, opts?: root.ClientOption): Promise<RunState> =>
  unwrap(root.loadRunState(runId, opts));

export const verifyJournal = (opts?: root.ClientOption & { readonly runId?: string }): Promise<root.ChainBreak[]> =>
  unwrap(root.verifyJournal(opts));

export const checkProjections = (
  opts?: root.ClientOption & { readonly runIds?: readonly string[] },
): Promise<root.ProjectionReport> => unwrap(root.checkProjections(opts));

export const auditJournal = (opts?: root.ClientOption & { readonly runIds?: readonly string[] }): Promise<root.AuditReport> =>
  unwrap(root.auditJournal(opts));

export const diffRuns = (runA: string, runB: string, opts?: root.ClientOption): Promise<root.RunComparison> =>
  unwrap(root.diffRuns(runA, runB, opts));

/** Streams a run's journal to `onEvent` until the run ends or `signal` aborts. */
export const followRun = (runId: string, opts: root.ClientOption & root.FollowOptions): Promise<root.FollowResult> =>
  unwrap(root.followRun(runId, opts));

/** The selected runs' events, a batch at a time; a failure is thrown as an OrbitFailure. */
export async function* exportRuns(
  selection: root.ExportSelection,
  opts?: root.ClientOption,
): AsyncGenerator<root.ExportedEvent[], void, undefined> {
  for await (const batch of root.exportRuns(selection, opts)) {
    if (E.isLeft(batch)) throw new OrbitFailure(batch.left);
    yield batch.right;
  }
}
