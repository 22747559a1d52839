import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { FoldFailure, RunNotFound } from '../errors';
import type { JsonValue } from '../events/json';
import type { RunState, StepState } from '../fold/runState';
import { loadRunState } from '../journal/loadRunState';
import type { RunComparison, StepComparison, StepSide } from './runComparison';

export type { RunComparison, StepComparison, StepSide } from './runComparison';

const isObject = (v: JsonValue): v is { [k: string]: JsonValue } => typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

/** The first path (depth first, keys in sorted order) where two JSON values differ, or null. */
export const firstDifference = (a: JsonValue, b: JsonValue, path = '$'): string | null => {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return `${path}[${i}]`;
      const d = firstDifference(a[i] as JsonValue, b[i] as JsonValue, `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a) || !(k in b)) return `${path}${key(k)}`;
      const d = firstDifference(a[k] as JsonValue, b[k] as JsonValue, `${path}${key(k)}`);
      if (d !== null) return d;
    }
    return null;
  }
  return a === b ? null : path;
};

const duration = (from: string | null, to: string | null): number | null =>
  from === null || to === null ? null : Date.parse(to) - Date.parse(from);

const side = (r: RunState, s: StepState | undefined): StepSide | null => {
  if (s === undefined) return null;
  const m = r.maps?.[s.name];
  return {
    status: s.status,
    attempts: s.attemptCount,
    durationMs: duration(s.startedAt, s.finishedAt),
    ...(m !== undefined ? { items: { total: m.count, succeeded: m.succeeded } } : {}),
  };
};

const summary = (r: RunState) => ({
  runId: r.runId,
  pipelineId: r.pipelineId,
  status: r.status,
  durationMs: duration(r.startedAt, r.finishedAt),
});

/** Compares two runs from their journals, step by step (steps of A in order, then B's others). */
export const compareRunStates = (a: RunState, b: RunState): RunComparison => {
  const names = [...a.stepNames, ...b.stepNames.filter((n) => !a.stepNames.includes(n))];
  const steps = names.map((step): StepComparison => {
    const sa = a.steps.find((s) => s.name === step);
    const sb = b.steps.find((s) => s.name === step);
    const both = sa?.status === 'success' && sb?.status === 'success';
    const diff = both ? firstDifference(sa.result, sb.result) : null;
    return { step, a: side(a, sa), b: side(b, sb), sameResult: both ? diff === null : null, firstDifference: diff };
  });
  return { a: summary(a), b: summary(b), steps };
};

/** Folds both runs' journals and compares them (the projections are not read). */
export const diffRuns = async (
  db: Database,
  runA: string,
  runB: string,
): Promise<E.Either<FoldFailure | RunNotFound, RunComparison>> => {
  const a = await loadRunState(db, runA);
  if (E.isLeft(a)) return a;
  const b = await loadRunState(db, runB);
  if (E.isLeft(b)) return b;
  return E.right(compareRunStates(a.right, b.right));
};
