import * as E from 'fp-ts/Either';
import type { ForkFailure } from '../errors';
import { enqueueFork as enqueue, type EnqueueForkOptions, type QueuedFork } from '../executor/forkRun';
import { clientOr } from '../runtime/orbitClient';

export type { EnqueueForkOptions, QueuedFork } from '../executor/forkRun';

/**
 * `forkRun` for a worker (what `orbit fork --queue` does): the new run, its `run.created` naming
 * the source and its `step.reused` results are journaled here and the run is queued; a worker that
 * has the pipeline (same definition) claims it and runs `fromStep` and what follows. The same
 * refusals as `forkRun`, before anything is written. docs/PIPELINES.md, "Forking a run".
 */
export const enqueueFork = async (runId: string, options: EnqueueForkOptions): Promise<E.Either<ForkFailure, QueuedFork>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : enqueue(runId, { ...options, client: c.right });
};
