/**
 * `orbit-pipeline/promise`: the library API in the spec's plain shapes. The root entry point
 * returns fp-ts `Either` values; here the same functions resolve to the plain value and reject
 * with an `OrbitFailure` that carries the tagged error (`failure.error._tag`). `resumeRun` keeps
 * the spec's `{ success, stepsExecuted, error }` result instead of rejecting, as the spec shows it.
 *
 * Derived from src/api/ mechanically: every function there is wrapped by `plain` at run time and
 * typed by `Plain<F>`; only overloaded functions (whose overloads a mapped type cannot keep) and
 * resumeRun are typed by hand, and the compiler refuses a new overloaded one until it is.
 * test/structure/publicSurface.test.ts checks that every root function has its counterpart here.
 */
import * as E from 'fp-ts/Either';
import * as api from './api';
import { formatError, type OrbitError, type ResumeFailure } from './errors';
import type { RunResult } from './executor/executeRun';
import type { Enqueued, EnqueueOptions } from './executor/queue';
import type { RunPipelineOptions } from './executor/runPipeline';
import type { JsonObject, Pipeline } from './pipeline/types';
import type { ResumeOptions, ResumeSuccess } from './recovery/resumeRun';

// The root's values that take no client are the same here.
export {
  definePipeline,
  PipelineDefinitionError,
  pipeline,
  registry,
  createRegistry,
  NonRetryableError,
  DEFAULT_RETRY,
  retryDelayMs,
  formatError,
  describeProblem,
  verifyExport,
  currentWait,
  describeWait,
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

/** The plain shape of a root function (or class): its Right, or a rejection with its Left. */
export type Plain<F> = F extends (...args: infer A) => Promise<E.Either<OrbitError, infer R>>
  ? (...args: A) => Promise<R>
  : F extends (...args: infer A) => AsyncGenerator<E.Either<OrbitError, infer R>, infer T, infer N>
    ? (...args: A) => AsyncGenerator<R, T, N>
    : F extends new (...args: infer A) => infer I
      ? new (...args: A) => { [K in keyof I]: Plain<I[K]> }
      : F;

const isEither = (v: unknown): v is E.Either<OrbitError, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  '_tag' in v &&
  ((v._tag === 'Left' && 'left' in v) || (v._tag === 'Right' && 'right' in v));

const settle = (v: unknown): unknown => {
  if (!isEither(v)) return v;
  if (E.isLeft(v)) throw new OrbitFailure(v.left);
  return v.right;
};

async function* settleEach(batches: AsyncGenerator<unknown, unknown, undefined>): AsyncGenerator<unknown, unknown, undefined> {
  for (;;) {
    const n = await batches.next();
    if (n.done === true) return n.value;
    yield settle(n.value);
  }
}

type AnyFunction = (...args: unknown[]) => unknown;
const isClass = (f: AnyFunction): boolean =>
  typeof f.prototype === 'object' && f.prototype !== null && Object.getOwnPropertyNames(f.prototype).includes('constructor');
const isAsyncGenerator = (v: unknown): v is AsyncGenerator<unknown, unknown, undefined> =>
  typeof v === 'object' && v !== null && Symbol.asyncIterator in v && 'next' in v;

const plainFunction =
  (f: AnyFunction): AnyFunction =>
  (...args) => {
    const r = f(...args);
    if (isAsyncGenerator(r)) return settleEach(r);
    return r instanceof Promise ? r.then(settle) : settle(r);
  };

const plainClass = (C: AnyFunction): unknown => {
  const Inner = C as unknown as new (...args: unknown[]) => Record<string, unknown>;
  const methods = Object.getOwnPropertyNames(C.prototype).filter((k) => k !== 'constructor');
  return class {
    constructor(...args: unknown[]) {
      const inner = new Inner(...args);
      const self = this as Record<string, unknown>;
      for (const m of methods) self[m] = plainFunction((inner[m] as AnyFunction).bind(inner));
    }
  };
};

/** Every function and class of src/api/, plain. */
const plain = Object.fromEntries(
  Object.entries(api).map(([name, v]) => {
    if (typeof v !== 'function') return [name, v];
    const f = v as AnyFunction;
    return [name, isClass(f) ? plainClass(f) : plainFunction(f)];
  }),
) as { [K in keyof typeof api]: Plain<(typeof api)[K]> };

// A function with overloads: a mapped type would keep only its last one, so it is typed by hand.
type Overloaded<F> = F extends { (...a: infer A1): unknown; (...a: infer A2): unknown }
  ? [A1] extends [A2]
    ? [A2] extends [A1]
      ? false
      : true
    : true
  : false;
type OverloadedNames = { [K in keyof typeof api]: Overloaded<(typeof api)[K]> extends true ? K : never }[keyof typeof api];
type TypedByHand = 'runPipeline' | 'enqueueRun';
// Fails to compile when a function of src/api/ gains overloads and is not typed by hand below.
const overloadsTypedByHand: [OverloadedNames] extends [TypedByHand] ? true : never = true;
void overloadsTypedByHand;

export const {
  addSchedule,
  analyzeStepCompletion,
  auditJournal,
  cancelRun,
  closeDefaultClient,
  connect,
  countRuns,
  defaultClient,
  detectInterruptedRuns,
  diffRuns,
  enqueueFork,
  exportRuns,
  followRun,
  forkRun,
  listRuns,
  listSchedules,
  listStrandedRuns,
  listWorkers,
  loadRunState,
  pipelineStats,
  planRecovery,
  readReplicaLag,
  readRunEvents,
  reconstructStepContext,
  recoveryHistory,
  recoveryStats,
  removeSchedule,
  replayRun,
  searchRuns,
  sendEvent,
  startWorker,
  verifyRun,
  watchRuns,
} = plain;

/** Detects interrupted runs and resumes each; `recoverInterruptedRuns()` resolves to the summary. */
export const RunRecoveryOrchestrator = plain.RunRecoveryOrchestrator;
export type RunRecoveryOrchestrator = InstanceType<typeof RunRecoveryOrchestrator>;

export function runPipeline<M>(pipeline: Pipeline<M>, metadata: M, options?: RunPipelineOptions): Promise<RunResult>;
export function runPipeline(name: string, metadata?: JsonObject, options?: RunPipelineOptions): Promise<RunResult>;
export function runPipeline(
  pipeline: Pipeline<unknown> | string,
  metadata?: unknown,
  options?: RunPipelineOptions,
): Promise<RunResult> {
  return (plainFunction(api.runPipeline as AnyFunction) as (...a: unknown[]) => Promise<RunResult>)(pipeline, metadata, options);
}

export function enqueueRun<M>(pipeline: Pipeline<M>, metadata: M, options?: EnqueueOptions): Promise<Enqueued>;
export function enqueueRun(name: string, metadata?: JsonObject, options?: EnqueueOptions): Promise<Enqueued>;
export function enqueueRun(
  pipeline: Pipeline<unknown> | string,
  metadata?: unknown,
  options?: EnqueueOptions,
): Promise<Enqueued> {
  return (plainFunction(api.enqueueRun as AnyFunction) as (...a: unknown[]) => Promise<Enqueued>)(pipeline, metadata, options);
}

/** The spec's result: `success`, `stepsExecuted`, and on failure `error` as one line of text. */
export type ResumeOutcome =
  | (ResumeSuccess & { readonly success: true })
  | { readonly success: false; readonly runId: string; readonly error: string; readonly failure: ResumeFailure };

/** Resumes an interrupted run; never rejects: a refusal or failure is `{ success: false, error }`. */
export const resumeRun = async (runId: string, options?: ResumeOptions): Promise<ResumeOutcome> => {
  const r = await api.resumeRun(runId, options);
  return E.isLeft(r) ? { success: false, runId, error: formatError(r.left), failure: r.left } : { ...r.right, success: true };
};
