/**
 * The public `runPipeline`: takes the pipeline itself (so its metadata type checks the call) or a
 * registered pipeline's name. Executing is the executor's job; this only finds or registers the
 * pipeline in the client's registry first.
 */
import * as E from 'fp-ts/Either';
import type { RunPipelineFailure } from '../errors';
import type { RunResult } from '../executor/executeRun';
import { runPipeline as runByName, type RunPipelineOptions } from '../executor/runPipeline';
import type { JsonObject, Pipeline } from '../pipeline/types';
import { clientOr } from '../runtime/orbitClient';
import { ensureRegistered } from '../pipeline/ensureRegistered';

export type { RunResult, Progress, ExecuteOptions } from '../executor/executeRun';
export type { RunPipelineOptions } from '../executor/runPipeline';

/**
 * Runs a pipeline from its first step to its end in this process. Given the pipeline object, the
 * metadata must have its type (the one its `metadata` codec decodes to, else a JSON object), and
 * the pipeline is registered in the client's registry if it is not there yet.
 */
export function runPipeline<M>(
  pipeline: Pipeline<M>,
  metadata: M,
  options?: RunPipelineOptions,
): Promise<E.Either<RunPipelineFailure, RunResult>>;
export function runPipeline(
  name: string,
  metadata?: JsonObject,
  options?: RunPipelineOptions,
): Promise<E.Either<RunPipelineFailure, RunResult>>;
export async function runPipeline(
  pipeline: Pipeline<unknown> | string,
  metadata: unknown = {},
  options: RunPipelineOptions = {},
): Promise<E.Either<RunPipelineFailure, RunResult>> {
  if (typeof pipeline === 'string') return runByName(pipeline, metadata, options);
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const client = c.right;
  const registered = ensureRegistered(client.registry, pipeline);
  if (E.isLeft(registered)) return registered;
  return runByName(pipeline.name, metadata, { ...options, client });
}
