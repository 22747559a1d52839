/** The projection rows (`runs`, `steps`) of a folded run: pure, so the append path and the checks share it. */
import type { JsonValue } from '../events/json';
import type { RunState, StepState } from './runState';

/** A `runs` row as Orbit writes it (times as ISO strings; the database stores timestamptz). */
export interface RunRow {
  readonly id: string;
  readonly pipeline_id: string;
  readonly status: string;
  readonly triggered_by: string | null;
  readonly metadata: JsonValue;
  readonly definition_hash: string;
  readonly step_names: readonly string[];
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly owner: string | null;
  readonly error: string | null;
  readonly recovery_count: number;
  readonly last_seq: number;
  readonly last_event_at: string;
}

/** A `steps` row as Orbit writes it. */
export interface StepRow {
  readonly run_id: string;
  readonly name: string;
  readonly step_index: number;
  readonly status: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly attempt_count: number;
  readonly error: string | null;
  readonly result: JsonValue | null;
  readonly next_retry_at: string | null;
}

/**
 * The `runs` and `steps` columns (sql/002_projections.sql), in table order: the one list every
 * statement that names them is built from (src/queries). The checks below fail to compile when a
 * row type gains a field the list lacks, or the other way round.
 */
export const RUN_COLUMNS = [
  'id',
  'pipeline_id',
  'status',
  'triggered_by',
  'metadata',
  'definition_hash',
  'step_names',
  'started_at',
  'finished_at',
  'owner',
  'error',
  'recovery_count',
  'last_seq',
  'last_event_at',
] as const satisfies readonly (keyof RunRow)[];

export const STEP_COLUMNS = [
  'run_id',
  'name',
  'step_index',
  'status',
  'started_at',
  'finished_at',
  'attempt_count',
  'error',
  'result',
  'next_retry_at',
] as const satisfies readonly (keyof StepRow)[];

type Unlisted<Row, List extends readonly string[]> = Exclude<keyof Row, List[number]>;
const everyColumnListed: [[Unlisted<RunRow, typeof RUN_COLUMNS>], [Unlisted<StepRow, typeof STEP_COLUMNS>]] extends [
  [never],
  [never],
]
  ? true
  : false = true;
void everyColumnListed;

export const toRunRow = (s: RunState): RunRow => ({
  id: s.runId,
  pipeline_id: s.pipelineId,
  status: s.status,
  triggered_by: s.triggeredBy,
  metadata: s.metadata,
  definition_hash: s.definitionHash,
  step_names: s.stepNames,
  started_at: s.startedAt,
  finished_at: s.finishedAt,
  owner: s.owner,
  error: s.error,
  recovery_count: s.recoveryCount,
  last_seq: s.lastSeq,
  last_event_at: s.lastEventAt,
});

/** The step's error as one line: "Name: message". */
export const stepErrorText = (step: StepState): string | null =>
  step.error === null ? null : `${step.error.name}: ${step.error.message}`;

/**
 * The step row's `next_retry_at`: when the step is next due (a retry, a sleep's end, a wait's
 * timeout) or, for a waiting step whose event came, that event's arrival, if earlier: workers wake
 * a suspended run by this time (src/queries/suspendedRuns.ts), an event's run as a sleep's.
 */
export const stepDueAt = (step: StepState): string | null =>
  step.status === 'waiting' &&
  step.eventAt !== undefined &&
  (step.nextRetryAt === null || Date.parse(step.eventAt) < Date.parse(step.nextRetryAt))
    ? step.eventAt
    : step.nextRetryAt;

export const toStepRow = (runId: string, step: StepState): StepRow => ({
  run_id: runId,
  name: step.name,
  step_index: step.index,
  status: step.status,
  started_at: step.startedAt,
  finished_at: step.finishedAt,
  attempt_count: step.attemptCount,
  error: stepErrorText(step),
  result: step.result,
  next_retry_at: stepDueAt(step),
});
