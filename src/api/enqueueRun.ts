/**
 * Queueing a run for a worker. Its signature is the queue's own (src/executor/queue.ts: the
 * pipeline's metadata type, scheduling and dedup options live there), so it is re-exported as is.
 */
export { enqueueRun, type EnqueueOptions } from '../executor/queue';
