import * as E from 'fp-ts/Either';
import { OrbitErrors, type ForkFailure } from '../errors';
import type { ForkedFrom } from '../events/runEvents';
import { forkEvents, type ForkPlan } from '../decide/forkEvents';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import type { Pipeline } from '../pipeline/types';
import { notifyRunQueued } from '../queries/notifyRunQueued';
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

/** The fork's plan against the source as journaled now, and the new run's id. */
const planFork = async (
  client: OrbitClient,
  runId: string,
  options: Pick<ForkOptions, 'fromStep' | 'runId'>,
  triggeredBy: string,
): Promise<E.Either<ForkFailure, { pipeline: Pipeline; id: string; plan: ForkPlan }>> => {
  const source = await loadRunState(client.db, runId);
  if (E.isLeft(source)) return source;
  const pipeline = client.registry.getPipeline(source.right.pipelineId);
  if (E.isLeft(pipeline)) return pipeline;
  const id = options.runId === undefined ? E.right(newRunId(client.clock)) : parseRunId(options.runId);
  if (E.isLeft(id)) return id;
  const plan = forkEvents(source.right, pipeline.right, options.fromStep, { triggeredBy, worker: client.workerId });
  return E.isLeft(plan) ? plan : E.right({ pipeline: pipeline.right, id: id.right, plan: plan.right });
};

const alreadyExists = (id: string) => OrbitErrors.invalidInput('run id', `a run with id ${id} already exists`);

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
  const planned = await planFork(client, runId, options, options.triggeredBy ?? 'api');
  if (E.isLeft(planned)) return planned;
  const { pipeline, id, plan } = planned.right;
  const executed = await executeRun(
    client,
    pipeline,
    id,
    { state: null, claim: { kind: 'claim', events: plan.events }, claimConflict: alreadyExists(id) },
    options,
  );
  if (E.isLeft(executed)) return executed;
  return E.right({ ...executed.right, forkedFrom: { runId, step: options.fromStep }, reused: plan.reused, rerun: plan.rerun });
};

/** `enqueueFork`'s options: `forkRun`'s, without those of executing here. */
export type EnqueueForkOptions = Pick<ForkOptions, 'fromStep' | 'client' | 'runId' | 'triggeredBy'>;

/** What `enqueueFork` put on the queue. */
export interface QueuedFork {
  readonly runId: string;
  readonly forkedFrom: ForkedFrom;
  readonly reused: readonly string[];
  readonly rerun: readonly string[];
}

/**
 * As `forkRun`, but the new run goes on the queue instead of running here: its `run.created`
 * (triggered by `queue:<triggeredBy>`) and its `step.reused` events are written in one append, and
 * a worker that has the pipeline claims it and runs the rest (`orbit fork --queue`).
 */
export const enqueueFork = async (runId: string, options: EnqueueForkOptions): Promise<E.Either<ForkFailure, QueuedFork>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const client = c.right;
  const planned = await planFork(client, runId, options, `queue:${options.triggeredBy ?? 'api'}`);
  if (E.isLeft(planned)) return planned;
  const { id, plan } = planned.right;
  // Everything but the claim: that is the worker's.
  const events = plan.events.filter((e) => e.type !== 'run.claimed');
  const created = await appendToRun(client.db, { runId: id, expectedSeq: 0, state: null, events, writer: client.workerId });
  if (E.isLeft(created)) return E.left(created.left._tag === 'ConcurrencyConflict' ? alreadyExists(id) : created.left);
  // After the commit, as enqueueRun: a worker woken by this finds the run (else its next sweep does).
  const notified = await notifyRunQueued(client.db, id);
  if (E.isLeft(notified)) return notified;
  return E.right({ runId: id, forkedFrom: { runId, step: options.fromStep }, reused: plan.reused, rerun: plan.rerun });
};
