import { NOTIFYING_TYPES, type RecordedEvent } from '../events/runEvents';
import type { JsonValue } from '../events/json';
import { stepDueAt, stepErrorText } from '../fold/projectionRows';
import type { RunState, StepState } from '../fold/runState';
import type { AppendRunEventsCall } from '../queries/appendEvents';

/**
 * The arguments of `append_run_events` for folded events: built straight from the fold's values,
 * with no intermediate row objects (the append runs at every step). `after` is the fold of the
 * run including the events; `changed`, the positions
 * of the steps the events changed (`foldChanges`).
 */
export const appendCallOf = (
  req: { readonly runId: string; readonly expectedSeq: number; readonly writer: string },
  records: readonly RecordedEvent[],
  after: RunState,
  changed: readonly number[],
): AppendRunEventsCall => {
  const n = records.length;
  const eventIds: string[] = new Array<string>(n);
  const types: string[] = new Array<string>(n);
  const stepNames: (string | null)[] = new Array<string | null>(n);
  const attempts: (number | null)[] = new Array<number | null>(n);
  const payloads: JsonValue[] = new Array<JsonValue>(n);
  let notify = false;
  for (let i = 0; i < n; i++) {
    const r = records[i] as RecordedEvent;
    const e = r.event;
    eventIds[i] = r.eventId;
    types[i] = e.type;
    stepNames[i] = 'stepName' in e ? e.stepName : null;
    attempts[i] = 'attempt' in e ? e.attempt : null;
    payloads[i] = e.payload;
    if (NOTIFYING_TYPES.has(e.type)) notify = true;
  }
  const m = changed.length;
  const stepRows: string[] = new Array<string>(m);
  const stepStatus: string[] = new Array<string>(m);
  const stepStarted: (string | null)[] = new Array<string | null>(m);
  const stepFinished: (string | null)[] = new Array<string | null>(m);
  const stepAttempts: number[] = new Array<number>(m);
  const stepErrors: (string | null)[] = new Array<string | null>(m);
  const stepResults: (JsonValue | null)[] = new Array<JsonValue | null>(m);
  const stepNextRetry: (string | null)[] = new Array<string | null>(m);
  for (let j = 0; j < m; j++) {
    const s = after.steps[changed[j] as number] as StepState;
    stepRows[j] = s.name;
    stepStatus[j] = s.status;
    stepStarted[j] = s.startedAt;
    stepFinished[j] = s.finishedAt;
    stepAttempts[j] = s.attemptCount;
    stepErrors[j] = stepErrorText(s);
    stepResults[j] = s.result;
    stepNextRetry[j] = stepDueAt(s);
  }
  return {
    runId: req.runId,
    expectedSeq: req.expectedSeq,
    writer: req.writer,
    eventIds,
    types,
    stepNames,
    attempts,
    payloads,
    status: after.status,
    finishedAt: after.finishedAt,
    owner: after.owner,
    error: after.error,
    recoveryCount: after.recoveryCount,
    lastEventAt: after.lastEventAt,
    stepRows,
    stepStatus,
    stepStarted,
    stepFinished,
    stepAttempts,
    stepErrors,
    stepResults,
    stepNextRetry,
    notify,
    // After creation only the mutable fields travel: metadata and step lists can be large.
    created:
      req.expectedSeq === 0
        ? {
            pipeline_id: after.pipelineId,
            triggered_by: after.triggeredBy,
            metadata: after.metadata,
            definition_hash: after.definitionHash,
            step_names: after.stepNames,
          }
        : null,
  };
};
