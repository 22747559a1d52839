import * as E from 'fp-ts/Either';
import { OrbitErrors, type InvalidInput, type RunNotForkable } from '../errors';
import type { RunEvent, StepReused } from '../events/runEvents';
import { graphOf } from '../fold/runGraph';
import type { RunState, StepState } from '../fold/runState';
import type { Pipeline } from '../pipeline/types';

/** What a fork writes first, and which steps it takes from the source run and which it runs. */
export interface ForkPlan {
  /** `run.created` (with `forkedFrom`), one `step.reused` per reused step, `run.claimed`. */
  readonly events: readonly RunEvent[];
  /** Steps whose journaled results the fork takes over (they do not run), in the order written. */
  readonly reused: readonly string[];
  /** Steps the fork runs: `fromStep`, everything downstream of it, and whatever had not succeeded. */
  readonly rerun: readonly string[];
}

/** Positions of `from` and of every step that depends on it, directly or through others. */
const downstreamOf = (state: RunState, from: number): Set<number> => {
  const g = graphOf(state);
  const seen = new Set<number>([from]);
  const stack = [from];
  while (stack.length > 0) {
    for (const j of g.dependents[stack.pop() as number] as readonly number[]) {
      if (!seen.has(j)) {
        seen.add(j);
        stack.push(j);
      }
    }
  }
  return seen;
};

/**
 * How `orbit fork <runId> --from-step <step>` begins: a new run of the same pipeline, with the
 * source's metadata, that takes over the journaled result of every step that succeeded in the
 * source and is neither `fromStep` nor downstream of it (for a linear pipeline: the steps before
 * it), and runs the rest. Pure. Refuses (as a value) a source that has not ended (pending or
 * running, interrupted included: resume or cancel it first), a step the run does not have, and a
 * pipeline whose definition changed since the source was created (its journaled results may not
 * fit the steps as they are now).
 */
export const forkEvents = (
  source: RunState,
  pipeline: Pipeline,
  fromStep: string,
  req: { readonly triggeredBy: string; readonly worker: string },
): E.Either<InvalidInput | RunNotForkable, ForkPlan> => {
  const { runId } = source;
  if (source.status === 'pending' || source.status === 'running') {
    const why =
      source.status === 'pending'
        ? 'it is still pending (queued, not started); wait for it to end, or cancel it first'
        : `it is still running${source.owner !== null ? ` (held by ${source.owner})` : ''}; wait for it to end, or cancel it first (an interrupted run: resume or cancel it)`;
    return E.left(OrbitErrors.runNotForkable(runId, source.status, why));
  }
  const g = graphOf(source);
  const from = g.index.get(fromStep);
  if (from === undefined)
    return E.left(
      OrbitErrors.invalidInput(
        'step',
        `run ${runId} has no step ${JSON.stringify(fromStep)} (its steps: ${source.stepNames.join(', ')})`,
      ),
    );
  if (pipeline.name !== source.pipelineId || pipeline.definitionHash !== source.definitionHash)
    return E.left(
      OrbitErrors.runNotForkable(
        runId,
        source.status,
        `pipeline "${source.pipelineId}" changed since the run was created (definition ${source.definitionHash.slice(0, 12)} journaled, ${pipeline.definitionHash.slice(0, 12)} registered): its journaled results may not fit the steps as they are now; start a new run instead`,
      ),
    );
  const again = downstreamOf(source, from);
  const keep = (i: number) => !again.has(i) && source.steps[i]?.status === 'success';
  // In dependency order (the fold takes a reused step only after its dependencies); a reused
  // step's dependencies all succeeded in the source and are upstream of it, so reused too.
  const order: number[] = [];
  const placed = new Set<number>();
  const place = (i: number) => {
    if (placed.has(i)) return;
    placed.add(i);
    for (const d of g.deps[i] as readonly number[]) place(d);
    order.push(i);
  };
  for (let i = 0; i < source.steps.length; i++) if (keep(i)) place(i);
  const reusedEvents: StepReused[] = order.map((i) => {
    const s = source.steps[i] as StepState;
    return {
      type: 'step.reused',
      stepName: s.name,
      attempt: 1,
      payload: { result: s.result, fromRun: runId, fromSeq: s.resultSeq as number },
    };
  });
  return E.right({
    events: [
      {
        type: 'run.created',
        payload: {
          pipelineId: source.pipelineId,
          steps: [...source.stepNames],
          definitionHash: source.definitionHash,
          metadata: source.metadata,
          triggeredBy: req.triggeredBy,
          ...(source.dependsOn !== null
            ? { dependsOn: Object.fromEntries(Object.entries(source.dependsOn).map(([k, v]) => [k, [...v]])) }
            : {}),
          forkedFrom: { runId, step: fromStep },
        },
      },
      ...reusedEvents,
      { type: 'run.claimed', payload: { worker: req.worker } },
    ],
    reused: order.map((i) => source.steps[i]?.name as string),
    rerun: source.stepNames.filter((_, i) => !keep(i)),
  });
};
