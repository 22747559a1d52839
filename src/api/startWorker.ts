/** A worker in this process: executes queued runs and recovers interrupted ones until stopped. */
export { startWorker, type StartWorkerOptions, type WorkerHandle, type WorkerEvent } from '../worker/recoveryWorker';
