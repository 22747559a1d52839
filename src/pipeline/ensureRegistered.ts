import * as E from 'fp-ts/Either';
import { OrbitErrors, type InvalidInput } from '../errors';
import type { Registry } from './registry';
import type { Pipeline } from './types';

/**
 * A pipeline object handed to `runPipeline` or `enqueueRun` is registered on the client's registry
 * if it is not there yet; a different pipeline of the same name already there is refused.
 */
export const ensureRegistered = (registry: Registry, pipeline: Pipeline<unknown>): E.Either<InvalidInput, void> => {
  const known = registry.getPipeline(pipeline.name);
  if (E.isLeft(known)) {
    registry.registerPipeline(pipeline);
    return E.right(undefined);
  }
  return known.right.definitionHash === pipeline.definitionHash
    ? E.right(undefined)
    : E.left(OrbitErrors.invalidInput('pipeline', `a different pipeline named "${pipeline.name}" is already registered`));
};
