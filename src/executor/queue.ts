import * as E from 'fp-ts/Either';
import { withTransaction } from '../db/database';
import type {
  DbFailure,
  EnqueueFailure,
  ExecuteFailure,
  FoldFailure,
  PipelineDrift,
  PipelineNotFound,
  RunAlreadyClaimed,
  RunNotFound,
} from '../errors';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { lockQueuedRuns } from '../queries/lockQueuedRuns';
import { deleteDelayedRun, insertDelayedRun } from '../queries/insertDelayedRun';
import { notifyRunQueued } from '../queries/notifyRunQueued';
import type { OrbitClient } from '../runtime/orbitClient';
import { executeRun, type ExecuteOptions, type RunResult } from './executeRun';
import { executionEnvFor } from './executionEnv';
import { prepareRun } from './runPipeline';

export interface EnqueueOptions {
  readonly client?: OrbitClient;
  /** Choose the run id (an idempotent trigger). Default: a new id. */
  readonly runId?: string;
  /** Who queued it (journaled as `queue:<triggeredBy>`). Default `api`. */
  readonly triggeredBy?: string;
  /**
   * A delayed run: not claimed before this time (compared with the database clock). The worker
   * wakes at that time (no polling). Default: at once.
   */
  readonly runAt?: Date;
  /** A delayed run, by a duration counted on the database clock from the enqueue. Not with `runAt`. */
  readonly delayMs?: number;
}

/**
 * Journals a run as `pending` on the queue and notifies workers (ids only); `orbit worker` (or
 * `startWorker`) executes it, at once or (`runAt`, `delayMs`) once it is due. Metadata is checked
 * here, so a bad run is refused, never queued.
 */
export const enqueueRun = async (
  name: string,
  metadata: unknown = {},
  options: EnqueueOptions = {},
): Promise<E.Either<EnqueueFailure, { readonly runId: string }>> => {
  const { runAt, delayMs } = options;
  if (runAt !== undefined && delayMs !== undefined)
    return E.left({ _tag: 'InvalidInput', what: 'runAt', message: 'give runAt or delayMs, not both' });
  if (runAt !== undefined && !(runAt instanceof Date && Number.isFinite(runAt.getTime())))
    return E.left({ _tag: 'InvalidInput', what: 'runAt', message: 'runAt must be a valid Date' });
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0))
    return E.left({ _tag: 'InvalidInput', what: 'delayMs', message: 'delayMs must be a number of milliseconds, 0 or more' });
  const prepared = await prepareRun(name, metadata, options, `queue:${options.triggeredBy ?? 'api'}`);
  if (E.isLeft(prepared)) return prepared;
  const { client, runId, events } = prepared.right;
  // The delay first: a worker must never see the run before it knows the run is not due yet.
  let delayed = false;
  if (runAt !== undefined || delayMs !== undefined) {
    const d = await insertDelayedRun(client.db, runId, runAt !== undefined ? { runAt } : { delayMs: delayMs ?? 0 });
    if (E.isLeft(d)) return d;
    delayed = d.right !== null;
  }
  // Only the creation: the claim is the worker's.
  const creation = events.filter((e) => e.type === 'run.created');
  const created = await appendToRun(client.db, {
    runId,
    expectedSeq: 0,
    state: null,
    events: creation,
    writer: client.workerId,
  });
  if (E.isLeft(created)) {
    // An existing run keeps its own due time.
    if (delayed) await deleteDelayedRun(client.db, runId);
    return created.left._tag === 'ConcurrencyConflict'
      ? E.left({ _tag: 'InvalidInput', what: 'run id', message: `a run with id ${runId} already exists` })
      : E.left(created.left);
  }
  // After the commit: a worker woken by this finds the run. A lost notification costs at most
  // one sweep interval, since workers also look at the queue on every sweep.
  const notified = await notifyRunQueued(client.db, runId);
  if (E.isLeft(notified)) return notified;
  return E.right({ runId });
};

/** Each pipeline of the client's registry: name → the definition hash it executes. */
export const executableDefinitions = (client: OrbitClient): Record<string, string> =>
  Object.fromEntries(client.registry.list().map((p) => [p.name, p.definitionHash]));

/**
 * Takes up to `max` queued runs of pipelines this process has (same name and definition hash): `FOR UPDATE SKIP LOCKED` so that concurrent
 * workers pick different runs, each put under this process's lease before the row locks are
 * released (so other workers skip it afterwards too). The claim itself is the executor's
 * `run.claimed` append at the seq seen here: should two workers still pick the same run, the seq
 * fence lets exactly one of them execute it. Returns the run ids reserved; pair each with
 * `releaseReservation` once its execution is over.
 */
export const reserveQueuedRuns = async (client: OrbitClient, max: number): Promise<E.Either<DbFailure, string[]>> => {
  if (max <= 0) return E.right([]);
  // Only runs this process can execute: its pipelines, at the definitions it has (issue 20 item 2).
  const executable = executableDefinitions(client);
  const env = executionEnvFor(client);
  const reserved: string[] = [];
  const r = await withTransaction(client.db, async (conn): Promise<E.Either<DbFailure, string[]>> => {
    const ids = await lockQueuedRuns(client.db, max, executable, conn);
    if (E.isLeft(ids)) return ids;
    for (const id of ids.right) {
      const acquired = await env.acquire(id);
      if (E.isLeft(acquired)) {
        env.release(id);
        break;
      }
      reserved.push(id);
    }
    return E.right(reserved);
  });
  // Not committed: the runs are not reserved after all.
  if (E.isLeft(r)) for (const id of reserved) env.release(id);
  return r;
};

/** Ends a reservation made by `reserveQueuedRuns`. */
export const releaseReservation = (client: OrbitClient, runId: string): void => executionEnvFor(client).release(runId);

/** Executes a reserved queued run: claims it at the seq seen (the fence) and runs it to its end. */
export const executeQueuedRun = async (
  client: OrbitClient,
  runId: string,
  opts: ExecuteOptions = {},
): Promise<
  E.Either<FoldFailure | RunNotFound | RunAlreadyClaimed | PipelineNotFound | PipelineDrift | ExecuteFailure, RunResult>
> => {
  const state = await loadRunState(client.db, runId);
  if (E.isLeft(state)) return state;
  if (state.right.status !== 'pending') return E.left({ _tag: 'RunAlreadyClaimed', runId });
  const pipeline = client.registry.getPipeline(state.right.pipelineId);
  if (E.isLeft(pipeline)) return pipeline;
  if (pipeline.right.definitionHash !== state.right.definitionHash) {
    return E.left({
      _tag: 'PipelineDrift',
      runId,
      pipelineId: pipeline.right.name,
      journaled: state.right.stepNames,
      registered: pipeline.right.stepNames,
    });
  }
  return executeRun(
    client,
    pipeline.right,
    runId,
    {
      state: state.right,
      claim: { kind: 'claim', events: [{ type: 'run.claimed', payload: { worker: client.workerId } }] },
      claimConflict: { _tag: 'RunAlreadyClaimed', runId },
    },
    opts,
  );
};
