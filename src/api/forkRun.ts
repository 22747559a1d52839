import * as E from 'fp-ts/Either';
import type { ForkFailure } from '../errors';
import { forkRun as fork, type ForkOptions, type ForkResult } from '../executor/forkRun';
import { clientOr } from '../runtime/orbitClient';

export type { ForkOptions, ForkResult } from '../executor/forkRun';

/**
 * A new run from a finished one, re-run from `options.fromStep` (what `orbit fork` does): same
 * pipeline, same metadata; every step that is neither `fromStep` nor downstream of it and that
 * succeeded in the source keeps its journaled result (`step.reused`, its handler is not called);
 * the rest runs in this process. The new run's `run.created` names the source (`forkedFrom`).
 * Refuses an unknown run (RunNotFound) or step (InvalidInput), a run that has not ended, and a
 * pipeline whose definition changed since the run (RunNotForkable). docs/PIPELINES.md, "Forking a run".
 */
export const forkRun = async (runId: string, options: ForkOptions): Promise<E.Either<ForkFailure, ForkResult>> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : fork(runId, { ...options, client: c.right });
};
