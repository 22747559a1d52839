/**
 * orbit-pipeline: multi-step pipelines on PostgreSQL, journaled event by event, recovered after
 * crashes. This file only re-exports, and only what callers may use: it is the public surface
 * (scripts/consumer/ checks that its types compile in a fresh project). See docs/ for the guides.
 * `orbit-pipeline/promise` (src/promise.ts) offers the same names with plain results.
 */
export { definePipeline, PipelineDefinitionError } from './pipeline/definePipeline';
export { registry, createRegistry, type Registry } from './pipeline/registry';
export type {
  Pipeline,
  PipelineConfig,
  StepDefinition,
  StepContext,
  StepResult,
  StepHandler,
  RetryPolicy,
  PrevResult,
  StepData,
} from './pipeline/types';

export { runPipeline } from './api/runPipeline';
export type { RunPipelineOptions } from './executor/runPipeline';
export { cancelRun, type CancelOptions } from './executor/cancelRun';
export { NonRetryableError } from './executor/stepError';
export type { RunResult, Progress, ExecuteOptions } from './executor/executeRun';
export { DEFAULT_RETRY, retryDelayMs } from './decide/retryPolicy';

export { detectInterruptedRuns, type InterruptedRun, type DetectOptions } from './recovery/detectInterruptedRuns';
export { analyzeStepCompletion, type StepAnalysis } from './recovery/analyzeStepCompletion';
export { reconstructStepContext, type ReconstructOptions } from './recovery/reconstructStepContext';
export { planResume, type ResumePlan, type PlanOptions } from './recovery/planResume';
export { resumeRun, type ResumeOptions, type ResumeResult, type ResumeSuccess } from './recovery/resumeRun';
export {
  RunRecoveryOrchestrator,
  type OrchestratorOptions,
  type RecoverySummary,
  type RecoveryOutcome,
  type RecoveryEvent,
} from './recovery/orchestrator';
export { RecoveryWorker, type RecoveryWorkerOptions, type WorkerEvent } from './worker/recoveryWorker';
export { recoveryStats, type RecoveryStats } from './recovery/recoveryStats';

export { connect, defaultClient, closeDefaultClient, type OrbitClient, type ConnectOptions } from './runtime/orbitClient';
export { parseDuration, DEFAULT_THRESHOLD_MS } from './runtime/duration';

// Read-only views that take a client. The pool, the append path (appendEvents, appendToRun) and
// projection rebuilding stay internal: a caller holding them could break the journal's invariants.
export {
  listRuns,
  readRunEvents,
  loadRunState,
  verifyJournal,
  checkProjections,
  type ClientOption,
  type RunSummary,
  type ListRunsOptions,
  type ChainBreak,
  type ProjectionDifference,
  type ProjectionReport,
} from './api/listRuns';

export type { RunState, StepState, RunStatus, StepStatus } from './fold/runState';
export type { RunEvent, RecordedEvent } from './events/runEvents';
export type { JsonValue, JsonObject } from './pipeline/types';

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
  type LoadRecoverableFailure,
  type ResumeFailure,
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
  type Fenced,
  type RecoveryLimitReached,
  type RunFailed,
} from './errors';
export { planRecovery, type RecoveryPlanEntry } from './recovery/planRecovery';
export { decideNext } from './decide/decideNext';
export type { Decision, Next, Outcome, AttemptResult, ResumeRequest } from './decide/decision';
export { enqueueRun, type EnqueueOptions } from './executor/queue';
export { startWorker, type StartWorkerOptions, type WorkerHandle } from './worker/recoveryWorker';

export { describeProblem, type AuditProblem, type AuditProblemKind } from './audit/problems';
export { replayRun, parseReplayPoint, type Replay, type ReplayPoint, type ReplayedContext } from './audit/replayRun';
export { buildTimeline, formatDuration, type Timeline, type AttemptSpan, type WaitSpan, type RunMarker } from './audit/timeline';
export { renderTimelineHtml } from './audit/timelineHtml';
export { ExportedEvent, eventHashHex } from './audit/exportFormat';
export { verifyExport, type ExportReport } from './audit/verifyExport';

export {
  auditJournal,
  diffRuns,
  exportRuns,
  followRun,
  type AuditReport,
  type FollowOptions,
  type FollowResult,
  type RunComparison,
  type StepComparison,
  type StepSide,
  type ExportSelection,
} from './api/auditJournal';

// Still internal while they take the raw pool (their .d.ts would need pg's types, and the pool
// lets a caller bypass the journal's invariants): auditRunJournal, importRuns,
// takeCheckpoint/verifyCheckpoint. The CLI uses them; a public version takes an OrbitClient, as
// src/auditApi.ts does for auditJournal, diffRuns, exportRuns and followRun.
