import * as E from 'fp-ts/Either';
import type { EventDecodeError, InvalidMetadata } from '../errors';
import type { RunState } from '../fold/runState';
import type { JsonValue } from '../events/json';
import type { Pipeline, StepContext } from '../pipeline/types';
import { decodeMetadata, prevResultsOf } from '../context/prevResults';

export { decodeMetadata, prevResultsOf } from '../context/prevResults';

export const idempotencyKeyOf = (runId: string, stepName: string, itemIndex?: number): string =>
  itemIndex === undefined ? `${runId}:${stepName}` : `${runId}:${stepName}:${itemIndex}`;

/** A map item as its handler sees it. */
export interface ItemInput {
  readonly index: number;
  readonly value: JsonValue;
}

/** The context a step's handler gets, built from the run's folded journal alone. */
export const buildStepContext = (
  state: RunState,
  pipeline: Pipeline,
  stepName: string,
  attempt: number,
  signal: AbortSignal,
  item?: ItemInput,
): E.Either<InvalidMetadata | EventDecodeError, StepContext<unknown>> => {
  const metadata = decodeMetadata(pipeline, state.metadata);
  if (E.isLeft(metadata)) return metadata;
  const prev = prevResultsOf(state, pipeline, stepName);
  if (E.isLeft(prev)) return prev;
  return E.right({
    runId: state.runId,
    pipelineId: state.pipelineId,
    stepName,
    attempt,
    metadata: metadata.right,
    prevResults: prev.right,
    idempotencyKey: idempotencyKeyOf(state.runId, stepName, item?.index),
    signal,
    ...(item !== undefined ? { item: item.value, itemIndex: item.index } : {}),
  });
};
