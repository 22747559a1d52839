import type { RecordedEvent } from '../events/runEvents';
import { runGraphOf } from '../fold/runGraph';

/** A branch of a run's graph, drawn as one lane: steps that run one after another. */
export interface Lane {
  /** 1 for the lane of the run's first step. */
  readonly number: number;
  readonly steps: readonly string[];
}

/** The run's `dependsOn` as its `run.created` recorded it (null: a linear pipeline). */
export const dependsOnOf = (events: readonly RecordedEvent[]): Readonly<Record<string, readonly string[]>> | null => {
  const first = events[0]?.event;
  return first?.type === 'run.created' ? (first.payload.dependsOn ?? null) : null;
};

/**
 * A run's steps arranged in lanes, one per branch: a step continues the lane of the first of its
 * dependencies that ends a lane, else it opens a lane of its own (a root, or a second branch out of
 * one step). A linear pipeline (or one whose graph does not hold) is one lane of every step, so
 * every picture of it stays as it was; a diamond a → (b, c) → d is the lanes [a, b, d] and [c].
 */
export const lanesOf = (
  steps: readonly string[],
  dependsOn: Readonly<Record<string, readonly string[]>> | null,
): readonly Lane[] => {
  const g = dependsOn === null ? null : runGraphOf(steps, dependsOn);
  if (g === null || typeof g === 'string' || g.linear) return [{ number: 1, steps }];
  // Dependency order (Kahn's, roots in list order): a step is placed after all of its dependencies.
  const waiting = g.deps.map((d) => d.length);
  const order: number[] = [];
  for (let i = 0; i < steps.length; i++) if (waiting[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    for (const j of g.dependents[order[k] as number] ?? []) {
      waiting[j] = (waiting[j] as number) - 1;
      if (waiting[j] === 0) order.push(j);
    }
  }
  const lanes: number[][] = [];
  const laneEndingAt = new Map<number, number>(); // step position -> lane it ends
  for (const i of order) {
    const cont = (g.deps[i] ?? [])
      .map((d) => laneEndingAt.get(d))
      .filter((l): l is number => l !== undefined)
      .sort((a, b) => a - b)[0];
    const lane = cont ?? lanes.length;
    if (cont === undefined) lanes.push([]);
    else laneEndingAt.delete((lanes[lane] as number[])[(lanes[lane] as number[]).length - 1] as number);
    (lanes[lane] as number[]).push(i);
    laneEndingAt.set(i, lane);
  }
  return lanes.map((l, k) => ({ number: k + 1, steps: l.map((i) => steps[i] as string) }));
};
