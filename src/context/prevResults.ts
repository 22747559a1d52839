import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { OrbitErrors, type EventDecodeError, type InvalidMetadata } from '../errors';
import { describeDecodeError } from '../events/decodeErrors';
import { graphOf, type RunGraph } from '../fold/runGraph';
import { successLogOf, type SuccessNode } from '../fold/successLog';
import { lazyRecord } from '../util/lazyRecord';
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
 * executor does not decode an earlier result again at every step.
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

/** A succeeded step's result decoded with its `output` codec (as is, without one), or why it does not decode. */
const decodeStep = (state: RunState, pipeline: Pipeline, step: StepState): E.Either<EventDecodeError, PrevResult> => {
  const decoded = decodedFor(pipeline);
  const hit = decoded.get(step);
  if (hit !== undefined) return E.right(hit);
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
  const prev: PrevResult = data === undefined ? { success: true } : { success: true, data: data as StepData };
  decoded.set(step, prev);
  return E.right(prev);
};

/**
 * The results of a run's succeeded steps that do not decode, by step position: each step checked
 * once per pipeline. The check of a state goes down its success list (newest first) only as far
 * as the first step already checked, and that step's answer covers every older one, so a step of
 * a long run pays for the steps that succeeded since the last one, not for all of them.
 */
interface Undecodable {
  readonly index: number;
  readonly error: EventDecodeError;
}
const checkedCache = new WeakMap<Pipeline, WeakMap<SuccessNode, readonly Undecodable[]>>();
const undecodableOf = (state: RunState, pipeline: Pipeline): readonly Undecodable[] => {
  let checked = checkedCache.get(pipeline);
  if (checked === undefined) {
    checked = new WeakMap();
    checkedCache.set(pipeline, checked);
  }
  const unchecked: SuccessNode[] = [];
  let node = successLogOf(state);
  let found: readonly Undecodable[] = [];
  while (node !== null) {
    const known = checked.get(node);
    if (known !== undefined) {
      found = known;
      break;
    }
    unchecked.push(node);
    node = node.prev;
  }
  for (let k = unchecked.length - 1; k >= 0; k--) {
    const n = unchecked[k] as SuccessNode;
    const r = decodeStep(state, pipeline, n.step);
    if (E.isLeft(r)) found = [...found, { index: n.index, error: r.left }];
    checked.set(n, found);
  }
  return found;
};

/**
 * Positions of the steps `i` depends on, directly or not: what a step of a DAG sees. Once per
 * run graph and step.
 */
const ancestorCache = new WeakMap<RunGraph, Map<number, ReadonlySet<number>>>();
const ancestorsOf = (g: RunGraph, i: number): ReadonlySet<number> => {
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
    a = seen;
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
  return g.linear || at === undefined
    ? state.steps
    : [...ancestorsOf(g, at)].sort((x, y) => x - y).map((j) => state.steps[j] as StepState);
};

/**
 * Every succeeded step's result by name, decoded with the step's `output` codec where it has one.
 * With `stepName` in a run whose steps do not all follow the one before them, only the results
 * of the steps it depends on (directly or not): those succeeded before it started, whatever the
 * other branches did, so a context rebuilt by recovery or replay is the same.
 *
 * Every result it holds is checked against its codec here (a Left names the first, by position,
 * that does not decode), but the record is a read-only view (`lazyRecord`): a result is looked up
 * when it is read, and only enumerating the record lists every step. So building the context of a
 * step costs the same at the first step of a long run as at its last.
 */
export const prevResultsOf = (
  state: RunState,
  pipeline: Pipeline,
  stepName?: string,
): E.Either<EventDecodeError, Readonly<Record<string, PrevResult | undefined>>> => {
  const g = graphOf(state);
  const at = stepName === undefined ? undefined : g.index.get(stepName);
  const ancestors = g.linear || at === undefined ? null : ancestorsOf(g, at);
  const visible = (j: number): boolean => ancestors === null || ancestors.has(j);
  let first: Undecodable | undefined;
  for (const u of undecodableOf(state, pipeline))
    if (visible(u.index) && (first === undefined || u.index < first.index)) first = u;
  if (first !== undefined) return E.left(first.error);
  const succeeded = (j: number): StepState | undefined => {
    const step = state.steps[j];
    return step !== undefined && step.status === 'success' && visible(j) ? step : undefined;
  };
  return E.right(
    lazyRecord<PrevResult>({
      get: (name) => {
        const j = g.index.get(name);
        const step = j === undefined ? undefined : succeeded(j);
        if (step === undefined) return undefined;
        const r = decodeStep(state, pipeline, step);
        // Checked above: a codec that accepts a value once and refuses it later is not a codec.
        if (E.isLeft(r)) throw new Error(`${r.left.field} of run ${state.runId} no longer decodes: ${r.left.message}`);
        return r.right;
      },
      keys: () => {
        const positions = ancestors === null ? state.steps.map((s) => s.index) : [...ancestors].sort((x, y) => x - y);
        return positions.flatMap((j) => {
          const step = succeeded(j);
          return step === undefined ? [] : [step.name];
        });
      },
    }),
  );
};
