import { stepDueAt } from './projectionRows';
import type { RunState, StepState } from './runState';

/**
 * What a sleeping or waiting run is suspended on: the step it sleeps or waits in, until when (a
 * sleep's end, a wait's timeout, null for a wait without one; ISO, database clock) and, for a
 * wait, the event's name.
 */
export interface SuspendedOn {
  readonly kind: 'sleep' | 'wait';
  readonly step: string;
  readonly until: string | null;
  readonly event: string | null;
  /**
   * A wait whose event was received and not yet taken: the run is due now and a worker resumes it
   * (woken, not interrupted); `until` is then when the event came. Absent otherwise.
   */
  readonly received?: true;
}

const dueMs = (s: StepState): number => {
  const at = stepDueAt(s);
  return at === null ? Infinity : Date.parse(at);
};

/**
 * The wait a run is in now, from its fold: among its steps that sleep or wait, a wait for an event
 * first (a person may have to act), then the one due first. The same choice as the projection's
 * (`suspendedOn` in src/queries/listRunSummaries.ts), so the CLI, the dashboard and the API agree.
 * Null when no step sleeps or waits.
 */
export const currentWait = (state: Pick<RunState, 'steps'>): SuspendedOn | null => {
  const paused = state.steps.filter((s) => s.status === 'sleeping' || s.status === 'waiting');
  const first = [...paused].sort((a, b) => (a.status === b.status ? dueMs(a) - dueMs(b) : a.status === 'waiting' ? -1 : 1))[0];
  if (first === undefined) return null;
  if (first.status === 'sleeping') return { kind: 'sleep', step: first.name, until: first.nextRetryAt, event: null };
  const event = first.waitingFor ?? null;
  return first.eventAt !== undefined
    ? { kind: 'wait', step: first.name, until: first.eventAt, event, received: true }
    : { kind: 'wait', step: first.name, until: first.nextRetryAt, event };
};

/** `2026-12-08 01:00:00Z`: an instant to the second, UTC, as the wait texts show it. */
export const formatWaitTime = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z` : iso;
};

/**
 * What a suspended run is shown as wherever its status is (`orbit runs`, `orbit history`, the
 * dashboard): `sleeping until 2026-12-08 01:00:00Z`, `waiting for "approved" (times out
 * 2026-12-08 02:00:00Z)`, `waiting for "approved" (no timeout)`, and once its event came (until a
 * worker resumes it) `event "approved" received 2026-12-08 01:30:00Z; a worker resumes it`.
 */
export const describeWait = (s: Pick<SuspendedOn, 'kind' | 'until' | 'event' | 'received'>): string =>
  s.kind === 'sleep'
    ? `sleeping until ${s.until === null ? '?' : formatWaitTime(s.until)}`
    : s.received === true
      ? `event ${JSON.stringify(s.event ?? '')} received${s.until === null ? '' : ` ${formatWaitTime(s.until)}`}; a worker resumes it`
      : `waiting for ${JSON.stringify(s.event ?? '')} (${s.until === null ? 'no timeout' : `times out ${formatWaitTime(s.until)}`})`;
