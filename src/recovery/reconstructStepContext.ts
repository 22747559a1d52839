import * as E from 'fp-ts/Either';
import type { EventDecodeError, InvalidInput, InvalidMetadata, LoadRecoverableFailure, RunNotResumable } from '../errors';
import type { RunState } from '../fold/runState';
import { loadRunState } from '../journal/loadRunState';
import { buildStepContext } from '../executor/stepContext';
import type { Pipeline, StepContext } from '../pipeline/types';
import { foldAndDiffRun, type ProjectionDifference } from '../projections/checkProjections';
import type { OrbitClient } from '../runtime/orbitClient';

export interface ReconstructOptions {
  /** Also require the projection tables to agree with the journal. Default true. */
  readonly checkProjections?: boolean;
}

/**
 * The journal of a run, replayed, checked against the projections, with its pipeline. Shared by
 * `reconstructStepContext` and `resumeRun`.
 */
export const loadRecoverableRun = async (
  client: OrbitClient,
  runId: string,
  checkProjections: boolean,
  /** When given, the journal must still be at this seq (else another process got there first). */
  expectedSeq?: number,
): Promise<E.Either<LoadRecoverableFailure, { state: RunState; pipeline: Pipeline }>> => {
  // One replay: inside the snapshot that also reads the projections when they are to be checked.
  const loaded = checkProjections
    ? await foldAndDiffRun(client.db, runId)
    : E.map((s: RunState) => ({ state: s, differences: [] as ProjectionDifference[] }))(await loadRunState(client.db, runId));
  if (E.isLeft(loaded)) return loaded;
  const { state, differences } = loaded.right;
  if (state === null) return E.left({ _tag: 'RunNotFound', runId });
  if (expectedSeq !== undefined && state.lastSeq !== expectedSeq) return E.left({ _tag: 'RunAlreadyClaimed', runId });
  if (differences.length > 0) {
    return E.left({
      _tag: 'ProjectionMismatch',
      runId,
      differences: differences.map(
        (d) => `${d.field}: projection has ${JSON.stringify(d.projected)}, journal says ${JSON.stringify(d.folded)}`,
      ),
    });
  }
  const pipeline = client.registry.getPipeline(state.pipelineId);
  if (E.isLeft(pipeline)) return pipeline;
  return E.right({ state, pipeline: pipeline.right });
};

/**
 * Replays the run's journal (not the projections) and rebuilds the StepContext its next step
 * will get: metadata, `prevResults` decoded with the steps' output codecs, the attempt number that
 * continues the journal's count, and the step's idempotency key. A journal that does not decode
 * or disagrees with the projections is a typed error that says where.
 */
export const reconstructStepContext = async (
  client: OrbitClient,
  runId: string,
  pipelineId: string,
  options: ReconstructOptions = {},
): Promise<
  E.Either<LoadRecoverableFailure | InvalidInput | RunNotResumable | InvalidMetadata | EventDecodeError, StepContext<unknown>>
> => {
  const loaded = await loadRecoverableRun(client, runId, options.checkProjections !== false);
  if (E.isLeft(loaded)) return loaded;
  const { state, pipeline } = loaded.right;
  if (state.pipelineId !== pipelineId) {
    return E.left({
      _tag: 'InvalidInput',
      what: 'pipeline id',
      message: `run ${runId} belongs to pipeline "${state.pipelineId}", not "${pipelineId}"`,
    });
  }
  const next = state.steps.find((s) => s.status !== 'success');
  if (next === undefined) {
    return E.left({ _tag: 'RunNotResumable', runId, status: state.status, reason: 'every step has already succeeded' });
  }
  return buildStepContext(state, pipeline, next.name, next.attemptCount + 1, new AbortController().signal);
};
