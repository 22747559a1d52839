import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { clientOr } from '../runtime/orbitClient';
import { Worker } from '../worker/worker';
import type { WorkerOptions } from '../worker/workerOptions';
import type { ClientOption } from './clientOption';

export type { WorkerEvent } from '../worker/workerEvent';

export interface StartWorkerOptions extends ClientOption, Omit<WorkerOptions, 'client'> {}

/** A running worker: `stop()` stops claiming, lets running steps finish, releases what is left. */
export interface WorkerHandle {
  readonly workerId: string;
  readonly stop: () => Promise<void>;
}

/**
 * Starts a worker in this process (what `orbit worker` runs): it executes queued runs
 * (`enqueueRun`) and recovers interrupted ones until `stop()`.
 */
export const startWorker = async (options: StartWorkerOptions = {}): Promise<E.Either<ConnectFailure, WorkerHandle>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const stopping = new AbortController();
  const worker = new Worker({
    ...options,
    client: c.right,
    stopSignal: options.stopSignal ? AbortSignal.any([options.stopSignal, stopping.signal]) : stopping.signal,
  });
  const started = await worker.start();
  if (E.isLeft(started)) return started;
  return E.right({
    workerId: c.right.workerId,
    stop: async () => {
      stopping.abort(new Error('worker stopped'));
      await worker.stop();
    },
  });
};
