import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { OrbitErrors, type EventDecodeError, type InvalidMetadata } from '../errors';
import { describeDecodeError } from '../events/decodeErrors';
import type { RunState, StepState } from '../fold/runState';
import type { Pipeline, PrevResult, StepContext, StepData } from '../pipeline/types';

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
    m = new Map(pipeline.steps.flatMap((s) => (s.output ? [[s.name, s.output] as const] : [])));
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

/** Every succeeded step's result by name, decoded with the step's `output` codec where it has one. */
export const prevResultsOf = (state: RunState, pipeline: Pipeline): E.Either<EventDecodeError, Record<string, PrevResult>> => {
  const out: Record<string, PrevResult> = {};
  const decoded = decodedFor(pipeline);
  for (const step of state.steps) {
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

export const idempotencyKeyOf = (runId: string, stepName: string): string => `${runId}:${stepName}`;

/** The context a step's handler gets, built from the run's folded journal alone. */
export const buildStepContext = (
  state: RunState,
  pipeline: Pipeline,
  stepName: string,
  attempt: number,
  signal: AbortSignal,
): E.Either<InvalidMetadata | EventDecodeError, StepContext<unknown>> => {
  const metadata = decodeMetadata(pipeline, state.metadata);
  if (E.isLeft(metadata)) return metadata;
  const prev = prevResultsOf(state, pipeline);
  if (E.isLeft(prev)) return prev;
  return E.right({
    runId: state.runId,
    pipelineId: state.pipelineId,
    stepName,
    attempt,
    metadata: metadata.right,
    prevResults: prev.right,
    idempotencyKey: idempotencyKeyOf(state.runId, stepName),
    signal,
  });
};
