import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { OrbitErrors, type EventDecodeError, type InvalidMetadata } from '../errors';
import { describeDecodeError } from '../events/decodeErrors';
import { graphOf, type RunGraph } from '../fold/runGraph';
import type { RunState, StepState } from '../fold/runState';
import type { Pipeline, PrevResult, StepData } from '../pipeline/types';

/**
 * What a step reads of its run, from the folded journal alone: the decoded metadata and the
 * earlier results it may see. Shared by the executor (step contexts) and the decider (a map
 * step's list computed from the context).
 */

/** Decodes metadata with the pipeline's codec (as is, without one). Errors never quote the value: metadata carries secrets. */
export const decodeMetadata = (pipeline: Pipeline, metadata: unknown): E.Either<InvalidMetadata, unknown> => {
  if (pipeline.metadata === undefined) return E.right(metadata);
  const r = pipeline.metadata.decode(metadata);
  return E.isLeft(r)
    ? E.left(OrbitErrors.invalidMetadata(pipeline.name, describeDecodeError(r.left, { showValue: false })))
    : E.right(r.right);
};

/** Output codecs by step name, once per pipeline (the executor builds a context at every step). */
const codecCache = new WeakMap<Pipeline, ReadonlyMap<string, t.Mixed>>();
const outputCodecs = (pipeline: Pipeline): ReadonlyMap<string, t.Mixed> => {
  let m = codecCache.get(pipeline);
  if (m === undefined) {
    // A map step's `output` validates one item's data; later steps read the list.
    m = new Map(
      pipeline.steps.flatMap((s) => (s.output ? [[s.name, s.map !== undefined ? t.array(s.output) : s.output] as const] : [])),
    );
    codecCache.set(pipeline, m);
  }
  return m;
};

/**
 * A succeeded step's decoded result, once per pipeline and step object: a step's result never
 * changes once it succeeded, and the fold keeps unchanged steps as the same objects, so the
 * executor does not decode every earlier result again at every step. (Sharing whole records
 * between steps, a copy plus one, measured slower than this rebuild: docs/PERFORMANCE.md.)
 */
const decodedCache = new WeakMap<Pipeline, WeakMap<StepState, PrevResult>>();
const decodedFor = (pipeline: Pipeline): WeakMap<StepState, PrevResult> => {
  let m = decodedCache.get(pipeline);
  if (m === undefined) {
    m = new WeakMap();
    decodedCache.set(pipeline, m);
  }
  return m;
};

/**
 * Positions of the steps `i` depends on, directly or not, ascending: what a step of a DAG sees.
 * Once per run graph and step.
 */
const ancestorCache = new WeakMap<RunGraph, Map<number, readonly number[]>>();
const ancestorsOf = (g: RunGraph, i: number): readonly number[] => {
  let m = ancestorCache.get(g);
  if (m === undefined) {
    m = new Map();
    ancestorCache.set(g, m);
  }
  let a = m.get(i);
  if (a === undefined) {
    const seen = new Set<number>();
    const stack = [...(g.deps[i] as readonly number[])];
    while (stack.length > 0) {
      const j = stack.pop() as number;
      if (seen.has(j)) continue;
      seen.add(j);
      stack.push(...(g.deps[j] as readonly number[]));
    }
    a = [...seen].sort((x, y) => x - y);
    m.set(i, a);
  }
  return a;
};

/**
 * The steps whose results `stepName` may see: every step of a linear run (or without a step), else
 * the steps it depends on, directly or not, in step order.
 */
export const visibleStepsOf = (state: RunState, stepName?: string): readonly StepState[] => {
  const g = graphOf(state);
  const at = stepName === undefined ? undefined : g.index.get(stepName);
  return g.linear || at === undefined ? state.steps : ancestorsOf(g, at).map((j) => state.steps[j] as StepState);
};

/**
 * Every succeeded step's result by name, decoded with the step's `output` codec where it has one.
 * With `stepName` in a run whose steps do not all follow the one before them, only the results
 * of the steps it depends on (directly or not): those succeeded before it started, whatever the
 * other branches did, so a context rebuilt by recovery or replay is the same.
 */
export const prevResultsOf = (
  state: RunState,
  pipeline: Pipeline,
  stepName?: string,
): E.Either<EventDecodeError, Record<string, PrevResult>> => {
  const out: Record<string, PrevResult> = {};
  const decoded = decodedFor(pipeline);
  for (const step of visibleStepsOf(state, stepName)) {
    if (step.status !== 'success') continue;
    let prev = decoded.get(step);
    if (prev === undefined) {
      const codec = outputCodecs(pipeline).get(step.name);
      let data: unknown = step.result ?? undefined;
      if (codec !== undefined && data !== undefined) {
        const d = codec.decode(data);
        if (E.isLeft(d)) {
          const seq = step.resultSeq ?? state.lastSeq;
          const field = `payload.result (${step.name})`;
          return E.left(OrbitErrors.eventDecodeError(state.runId, seq, 'step.succeeded', field, describeDecodeError(d.left)));
        }
        data = d.right;
      }
      prev = data === undefined ? { success: true } : { success: true, data: data as StepData };
      decoded.set(step, prev);
    }
    out[step.name] = prev;
  }
  return E.right(out);
};
