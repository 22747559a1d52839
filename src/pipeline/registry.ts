import * as E from 'fp-ts/Either';
import type { PipelineNotFound } from '../errors';
import type { Pipeline } from './types';

/** Where recovery and the CLI find pipeline definitions by name. */
export interface Registry {
  /** Registers a pipeline; registering the same object twice is harmless. */
  registerPipeline<M>(pipeline: Pipeline<M>): void;
  getPipeline(name: string): E.Either<PipelineNotFound, Pipeline>;
  list(): readonly Pipeline[];
}

export const createRegistry = (): Registry => {
  const pipelines = new Map<string, Pipeline>();
  return {
    registerPipeline(pipeline) {
      const existing = pipelines.get(pipeline.name);
      if (existing !== undefined && existing !== (pipeline as Pipeline) && existing.definitionHash !== pipeline.definitionHash) {
        throw new Error(`A different pipeline named "${pipeline.name}" is already registered`);
      }
      pipelines.set(pipeline.name, pipeline);
    },
    getPipeline(name) {
      const p = pipelines.get(name);
      return p ? E.right(p) : E.left({ _tag: 'PipelineNotFound', pipelineId: name, known: [...pipelines.keys()].sort() });
    },
    list: () => [...pipelines.values()],
  };
};

/** The process-wide registry the spec's examples use: `registry.registerPipeline(myPipeline)`. */
export const registry: Registry = createRegistry();
