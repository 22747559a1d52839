/**
 * The public `enqueueRun`: takes the pipeline itself (so its metadata type checks the call) or a
 * registered pipeline's name, as `runPipeline` does. Queueing is the executor's job
 * (src/executor/queue.ts); this only finds or registers the pipeline in the client's registry first.
 */
import * as E from 'fp-ts/Either';
import type { EnqueueFailure } from '../errors';
import { enqueueRun as enqueueByName, type Enqueued, type EnqueueOptions } from '../executor/queue';
import type { JsonObject, Pipeline } from '../pipeline/types';
import { clientOr } from '../runtime/orbitClient';
import { ensureRegistered } from '../pipeline/ensureRegistered';

export type { Enqueued, EnqueueOptions } from '../executor/queue';

/**
 * Journals a run as `pending` on the queue; `orbit worker` (or `startWorker`) executes it. Given
 * the pipeline object, the metadata must have its type (the one its `metadata` codec decodes to,
 * else a JSON object), and the pipeline is registered in the client's registry if it is not yet.
 * Metadata is checked here, so a bad run is refused, never queued.
 */
export function enqueueRun<M>(
  pipeline: Pipeline<M>,
  metadata: M,
  options?: EnqueueOptions,
): Promise<E.Either<EnqueueFailure, Enqueued>>;
export function enqueueRun(
  name: string,
  metadata?: JsonObject,
  options?: EnqueueOptions,
): Promise<E.Either<EnqueueFailure, Enqueued>>;
export async function enqueueRun(
  pipeline: Pipeline<unknown> | string,
  metadata: unknown = {},
  options: EnqueueOptions = {},
): Promise<E.Either<EnqueueFailure, Enqueued>> {
  if (typeof pipeline === 'string') return enqueueByName(pipeline, metadata, options);
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const client = c.right;
  const registered = ensureRegistered(client.registry, pipeline);
  if (E.isLeft(registered)) return registered;
  return enqueueByName(pipeline.name, metadata, { ...options, client });
}
