import type { RunState, StepState } from '../fold/runState';
import { keepSuccessLog, successLogOf } from '../fold/successLog';

/**
 * Events being appended have no time yet: the database stamps them at commit. The writer folds
 * them with this sentinel as their time, so every time the fold derives from them (a step's start,
 * a retry 1.5 s later) is "sentinel + offset". `append_run_events` turns such values into
 * "transaction time + offset" (see sql/003_append.sql), and `resolvePendingTimes` does the same
 * to the writer's in-memory state once the commit time is known.
 */
export const PENDING_EPOCH = '0001-01-01T00:00:00.000Z';
const PENDING_EPOCH_MS = Date.parse(PENDING_EPOCH);

const isPending = (iso: string | null): iso is string => iso !== null && iso.startsWith('0001-');

const resolve = (iso: string | null, committedMs: number): string | null =>
  isPending(iso) ? new Date(committedMs + (Date.parse(iso) - PENDING_EPOCH_MS)).toISOString() : iso;

const resolveStep = (s: StepState, ms: number): StepState =>
  isPending(s.startedAt) || isPending(s.finishedAt) || isPending(s.nextRetryAt) || isPending(s.eventAt ?? null)
    ? {
        ...s,
        startedAt: resolve(s.startedAt, ms),
        finishedAt: resolve(s.finishedAt, ms),
        nextRetryAt: resolve(s.nextRetryAt, ms),
        ...(s.eventAt !== undefined ? { eventAt: resolve(s.eventAt, ms) as string } : {}),
      }
    : s;

/**
 * Replaces sentinel-relative times with real ones, now that the commit time is known. Only the
 * steps at `changed` (those the append touched) can hold such times; without it every step is checked.
 */
export const resolvePendingTimes = (state: RunState, committedAt: string, changed?: readonly number[]): RunState => {
  const ms = Date.parse(committedAt);
  let steps = state.steps;
  if (changed === undefined) steps = steps.map((s) => resolveStep(s, ms));
  else if (changed.length > 0) {
    const out = steps.slice();
    for (const i of changed) out[i] = resolveStep(out[i] as StepState, ms);
    steps = out;
  }
  const resolved: RunState = {
    ...state,
    startedAt: resolve(state.startedAt, ms) as string,
    finishedAt: resolve(state.finishedAt, ms),
    lastEventAt: resolve(state.lastEventAt, ms) as string,
    steps,
  };
  // The same steps succeeded (only times changed): the next fold goes on from the same list.
  keepSuccessLog(resolved, successLogOf(state));
  return resolved;
};
