/**
 * orbit-pipeline: multi-step pipelines on PostgreSQL, journaled event by event, recovered after
 * crashes. This file only re-exports: the client-taking functions of src/api/ (the whole folder),
 * and the few values and types a caller needs beside them (defining pipelines, the error union).
 * docs/API.md lists the result, checked against it by test/structure/publicSurface.test.ts;
 * scripts/consumer/ checks that its types compile in a fresh project. `orbit-pipeline/promise`
 * (src/promise.ts) offers the same functions with plain results.
 */
export * from './api';

export { definePipeline, PipelineDefinitionError, type DependencyProblem } from './pipeline/definePipeline';
export {
  pipeline,
  type PipelineBuilder,
  type TypedPipelineOptions,
  type TypedStepOptions,
  type TypedMapOptions,
  type TypedSleepOptions,
  type TypedWaitOptions,
  type TypedStepContext,
  type JsonReturn,
} from './pipeline/builder';
export { registry, createRegistry, type Registry } from './pipeline/registry';
export type {
  Pipeline,
  PipelineConfig,
  PipelineSchedule,
  StepDefinition,
  StepContext,
  StepResult,
  StepHandler,
  MapOptions,
  MapListContext,
  RetryPolicy,
  PrevResult,
  StepData,
  JsonValue,
  JsonObject,
} from './pipeline/types';
export { NonRetryableError } from './executor/stepError';
export type { Clock } from './util/clock';
export type { Logger } from './util/logger';
export { DEFAULT_RETRY, retryDelayMs } from './decide/retryPolicy';

// Audit helpers that take no client.
export { describeProblem } from './audit/problems';
export { verifyExport, type ExportReport } from './audit/verifyExport';

export {
  formatError,
  type OrbitError,
  type ErrorOf,
  type DbFailure,
  type ConnectFailure,
  type ReadFailure,
  type FoldFailure,
  type AppendFailure,
  type ExecuteFailure,
  type ResumeRefusal,
  type RunPipelineFailure,
  type EnqueueFailure,
  type CancelFailure,
  type SendEventFailure,
  type LoadRecoverableFailure,
  type ResumeFailure,
  type ForkFailure,
  type DatabaseUnavailable,
  type DatabaseError,
  type InvalidSchemaName,
  type InvalidInput,
  type ConcurrencyConflict,
  type EventDecodeError,
  type IllegalTransition,
  type RunNotFound,
  type PipelineNotFound,
  type InvalidMetadata,
  type RunNotResumable,
  type RunHasFailedSteps,
  type PipelineDrift,
  type RunAlreadyClaimed,
  type RunStillActive,
  type ProjectionMismatch,
  type RunNotCancellable,
  type EventNotDelivered,
  type Fenced,
  type RecoveryLimitReached,
  type RunFailed,
  type RunNotForkable,
} from './errors';
