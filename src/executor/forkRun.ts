import * as E from 'fp-ts/Either';
import { OrbitErrors, type ForkFailure } from '../errors';
import type { ForkedFrom } from '../events/runEvents';
import { forkEvents } from '../decide/forkEvents';
import { loadRunState } from '../journal/loadRunState';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { executeRun, type ExecuteOptions, type RunResult } from './executeRun';
import { newRunId, parseRunId } from './runId';

export interface ForkOptions extends ExecuteOptions {
  /** The step the new run starts again from: it and every step downstream of it run; the others' results are reused. */
  readonly fromStep: string;
  /** Default: the shared client from the environment (`DATABASE_URL`, else embedded). */
  readonly client?: OrbitClient;
  /** The new run's id. Default: a new id. */
  readonly runId?: string;
  /** Who asked for the fork (journaled as the new run's `triggeredBy`). Default `api`. */
  readonly triggeredBy?: string;
}

/** How the fork ended (as `runPipeline`'s result), and what it took from the source. */
export interface ForkResult extends RunResult {
  readonly forkedFrom: ForkedFrom;
  /** Steps whose results were taken from the source run (their handlers did not run). */
  readonly reused: readonly string[];
  /** Steps this fork had to run (the named step, its downstream, and whatever had not succeeded). */
  readonly rerun: readonly string[];
}

/**
 * Forks a finished run (succeeded, failed or cancelled) from one of its steps: a new run of the
 * same pipeline with the same metadata, whose journal begins with `run.created` (naming the source
 * run and step in `forkedFrom`) and one `step.reused` per step it takes over, then runs the rest in
 * this process. The source run is only read, never written. Refused before anything is written: an
 * unknown run or step, a run that has not ended, a pipeline that changed since the run.
 */
export const forkRun = async (runId: string, options: ForkOptions): Promise<E.Either<ForkFailure, ForkResult>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const client = c.right;
  const source = await loadRunState(client.db, runId);
  if (E.isLeft(source)) return source;
  const pipeline = client.registry.getPipeline(source.right.pipelineId);
  if (E.isLeft(pipeline)) return pipeline;
  const id = options.runId === undefined ? E.right(newRunId(client.clock)) : parseRunId(options.runId);
  if (E.isLeft(id)) return id;
  const plan = forkEvents(source.right, pipeline.right, options.fromStep, {
    triggeredBy: options.triggeredBy ?? 'api',
    worker: client.workerId,
  });
  if (E.isLeft(plan)) return plan;
  const executed = await executeRun(
    client,
    pipeline.right,
    id.right,
    {
      state: null,
      claim: { kind: 'claim', events: plan.right.events },
      claimConflict: OrbitErrors.invalidInput('run id', `a run with id ${id.right} already exists`),
    },
    options,
  );
  if (E.isLeft(executed)) return executed;
  return E.right({
    ...executed.right,
    forkedFrom: { runId, step: options.fromStep },
    reused: plan.right.reused,
    rerun: plan.right.rerun,
  });
};
