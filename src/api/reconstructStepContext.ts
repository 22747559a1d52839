import * as E from 'fp-ts/Either';
import type {
  ConnectFailure,
  EventDecodeError,
  InvalidInput,
  InvalidMetadata,
  LoadRecoverableFailure,
  RunNotResumable,
} from '../errors';
import type { StepContext } from '../pipeline/types';
import { reconstructStepContext as reconstruct, type ReconstructOptions as Options } from '../recovery/reconstructStepContext';
import { clientOr } from '../runtime/orbitClient';
import type { ClientOption } from './clientOption';

export interface ReconstructOptions extends ClientOption, Options {}

/**
 * Replays the run's journal (not the projections) and rebuilds the StepContext its next step
 * will get: metadata, `prevResults` decoded with the steps' output codecs, the attempt number that
 * continues the journal's count, and the step's idempotency key. A journal that does not decode
 * or disagrees with the projections is a typed error that says where.
 */
export const reconstructStepContext = async (
  runId: string,
  pipelineId: string,
  options: ReconstructOptions = {},
): Promise<
  E.Either<
    ConnectFailure | LoadRecoverableFailure | InvalidInput | RunNotResumable | InvalidMetadata | EventDecodeError,
    StepContext<unknown>
  >
> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : reconstruct(c.right, runId, pipelineId, options);
};
