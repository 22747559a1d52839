import * as E from 'fp-ts/Either';
import { withTransaction } from '../db/database';
import type {
  DbFailure,
  EnqueueFailure,
  ExecuteFailure,
  FoldFailure,
  InvalidInput,
  PipelineDrift,
  PipelineNotFound,
  RunAlreadyClaimed,
  RunNotFound,
} from '../errors';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { lockQueuedRuns } from '../queries/lockQueuedRuns';
import { claimDedupKey, releaseDedupKey } from '../queries/claimDedupKey';
import { deleteDelayedRun, insertDelayedRun } from '../queries/insertDelayedRun';
import { deleteRunPriority, insertRunPriority } from '../queries/insertRunPriority';
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
  /**
   * Workers claim runs of higher priority first, then the oldest (an integer from -1,000,000 to
   * 1,000,000; default 0). A run already claimed is not preempted.
   */
  readonly priority?: number;
  /**
   * A deduplication key (1-256 characters): while a run of this pipeline queued with the same key
   * has not ended (pending or running), the enqueue returns that run (`deduplicated: true`) and
   * creates none; once it has ended the key is free and names the next run queued with it.
   */
  readonly dedupKey?: string;
}

/** What an enqueue did: the run queued, or (`deduplicated`) the unfinished run of the same dedup key. */
export interface Enqueued {
  readonly runId: string;
  /** True when no run was created: `runId` is the unfinished run queued earlier with the same `dedupKey`. */
  readonly deduplicated: boolean;
}

export const MAX_PRIORITY = 1_000_000;
const MAX_DEDUP_KEY_LENGTH = 256;

const checkEnqueueOptions = (options: EnqueueOptions): E.Either<InvalidInput, void> => {
  const { runAt, delayMs, priority, dedupKey } = options;
  const bad = (what: string, message: string) => E.left<InvalidInput>({ _tag: 'InvalidInput', what, message });
  if (runAt !== undefined && delayMs !== undefined) return bad('runAt', 'give runAt or delayMs, not both');
  if (runAt !== undefined && !(runAt instanceof Date && Number.isFinite(runAt.getTime())))
    return bad('runAt', 'runAt must be a valid Date');
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0))
    return bad('delayMs', 'delayMs must be a number of milliseconds, 0 or more');
  if (priority !== undefined && !(Number.isInteger(priority) && Math.abs(priority) <= MAX_PRIORITY))
    return bad('priority', `priority must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
  if (
    dedupKey !== undefined &&
    !(typeof dedupKey === 'string' && dedupKey.length >= 1 && dedupKey.length <= MAX_DEDUP_KEY_LENGTH)
  )
    return bad('dedupKey', `dedupKey must be a string of 1 to ${MAX_DEDUP_KEY_LENGTH} characters`);
  return E.right(undefined);
};

/**
 * Journals a run as `pending` on the queue and notifies workers (ids only); `orbit worker` (or
 * `startWorker`) executes it, at once or (`runAt`, `delayMs`) once it is due, highest `priority`
 * first. Metadata is checked here, so a bad run is refused, never queued. With a `dedupKey` whose
 * run has not ended, nothing is created and that run is returned (`deduplicated: true`).
 */
export const enqueueRun = async (
  name: string,
  metadata: unknown = {},
  options: EnqueueOptions = {},
): Promise<E.Either<EnqueueFailure, Enqueued>> => {
  const checked = checkEnqueueOptions(options);
  if (E.isLeft(checked)) return checked;
  const { runAt, delayMs, priority, dedupKey } = options;
  const prepared = await prepareRun(name, metadata, options, `queue:${options.triggeredBy ?? 'api'}`);
  if (E.isLeft(prepared)) return prepared;
  const { client, runId, events } = prepared.right;
  const { db } = client;
  // The key first: a second enqueue with it returns this run, even before the run is journaled.
  if (dedupKey !== undefined) {
    const key = await claimDedupKey(db, name, dedupKey, runId);
    if (E.isLeft(key)) return key;
    if (!key.right.taken) return E.right({ runId: key.right.runId, deduplicated: true });
  }
  // Then the delay and priority: a worker must never see the run before it knows them.
  let delayed = false;
  let prioritised = false;
  // What this enqueue recorded goes when the run is not created (an existing run keeps its own).
  const undo = async () => {
    if (delayed) await deleteDelayedRun(db, runId);
    if (prioritised) await deleteRunPriority(db, runId);
    if (dedupKey !== undefined) await releaseDedupKey(db, name, dedupKey, runId);
  };
  if (runAt !== undefined || delayMs !== undefined) {
    const d = await insertDelayedRun(db, runId, runAt !== undefined ? { runAt } : { delayMs: delayMs ?? 0 });
    if (E.isLeft(d)) {
      await undo();
      return d;
    }
    delayed = d.right !== null;
  }
  if (priority !== undefined && priority !== 0) {
    const p = await insertRunPriority(db, runId, priority);
    if (E.isLeft(p)) {
      await undo();
      return p;
    }
    prioritised = p.right;
  }
  // Only the creation: the claim is the worker's.
  const creation = events.filter((e) => e.type === 'run.created');
  const created = await appendToRun(db, {
    runId,
    expectedSeq: 0,
    state: null,
    events: creation,
    writer: client.workerId,
  });
  if (E.isLeft(created)) {
    await undo();
    return created.left._tag === 'ConcurrencyConflict'
      ? E.left({ _tag: 'InvalidInput', what: 'run id', message: `a run with id ${runId} already exists` })
      : E.left(created.left);
  }
  // After the commit: a worker woken by this finds the run. A lost notification costs at most
  // one sweep interval, since workers also look at the queue on every sweep.
  const notified = await notifyRunQueued(db, runId);
  if (E.isLeft(notified)) return notified;
  return E.right({ runId, deduplicated: false });
};

/** Each pipeline of the client's registry: name → the definition hash it executes. */
export const executableDefinitions = (client: OrbitClient): Record<string, string> =>
  Object.fromEntries(client.registry.list().map((p) => [p.name, p.definitionHash]));

/**
 * Each pipeline of the client's registry that has a concurrency limit (its `concurrency`), with
 * `overrides` (a worker's `pipelineConcurrency`) taking precedence: name → at most this many of its
 * runs executing at once across all workers.
 */
export const concurrencyLimits = (
  client: OrbitClient,
  overrides: Readonly<Record<string, number>> = {},
): Record<string, number> => {
  const limits: Record<string, number> = {};
  for (const p of client.registry.list()) {
    const limit = overrides[p.name] ?? p.concurrency;
    if (limit !== undefined) limits[p.name] = limit;
  }
  return limits;
};

/**
 * Takes up to `max` queued runs of pipelines this process has (same name and definition hash): `FOR UPDATE SKIP LOCKED` so that concurrent
 * workers pick different runs; highest priority first; limited pipelines within their limit
 * (lockQueuedRuns). Each is put under this process's lease before the row locks are
 * released (so other workers skip it afterwards too). The claim itself is the executor's
 * `run.claimed` append at the seq seen here: should two workers still pick the same run, the seq
 * fence lets exactly one of them execute it. Returns the run ids reserved; pair each with
 * `releaseReservation` once its execution is over.
 */
export const reserveQueuedRuns = async (
  client: OrbitClient,
  max: number,
  limitOverrides: Readonly<Record<string, number>> = {},
): Promise<E.Either<DbFailure, string[]>> => {
  if (max <= 0) return E.right([]);
  // Only runs this process can execute: its pipelines, at the definitions it has (issue 20 item 2),
  // no more of a limited pipeline's runs than its limit leaves room for.
  const claimable = { executable: executableDefinitions(client), limits: concurrencyLimits(client, limitOverrides) };
  const env = executionEnvFor(client);
  const reserved: string[] = [];
  const r = await withTransaction(client.db, async (conn): Promise<E.Either<DbFailure, string[]>> => {
    const ids = await lockQueuedRuns(client.db, max, claimable, conn);
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

type QueuedRunOutcome = E.Either<
  FoldFailure | RunNotFound | RunAlreadyClaimed | PipelineNotFound | PipelineDrift | ExecuteFailure,
  RunResult
>;

/**
 * Executes a reserved queued run: claims it at the seq seen (the fence) and runs it to its end.
 *
 * A claim can be lost after it committed: an asynchronous failover to a replica that never
 * received it. The next append is refused (fenced) and the journal shows the run queued again,
 * nobody's — a claimed run never goes back to `pending` otherwise. Nobody else will take it: it is
 * still in this process's lease (the reservation), and its NOTIFY was delivered long ago. So it is
 * claimed again here at once, at the seq the journal has, instead of being reported as taken over
 * and left for a failed execution's backoff (1 s, doubling to 30 s) or another worker's wake-up.
 */
export const executeQueuedRun = async (
  client: OrbitClient,
  runId: string,
  opts: ExecuteOptions = {},
): Promise<QueuedRunOutcome> => {
  const first = await claimQueuedRun(client, runId, opts);
  if (E.isRight(first) || first.left._tag !== 'Fenced') return first;
  const now = await loadRunState(client.db, runId);
  if (E.isLeft(now) || now.right.status !== 'pending') return first;
  client.logger.warn(`run ${runId}: its claim was lost (a failover?); claiming it again`);
  return claimQueuedRun(client, runId, opts);
};

const claimQueuedRun = async (client: OrbitClient, runId: string, opts: ExecuteOptions): Promise<QueuedRunOutcome> => {
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
