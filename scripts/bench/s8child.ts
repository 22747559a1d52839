/**
 * One of S8's two worker processes: `startWorker` (what `orbit worker` runs) on the bench schema,
 * its handlers counting every step execution. On { cmd: 'stop' } it stops the worker and sends
 * those counts back, so the parent can check that no step ran twice across both processes, with
 * the moment each run's NOTIFY arrived here.
 *   fork s8child.js <url> <schema> <concurrency>
 */
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { formatError } from '../../src/errors';
import { createRegistry } from '../../src/pipeline/registry';
import { startWorker } from '../../src/api/startWorker';
import { connect } from '../../src/runtime/orbitClient';
import { queuedPipeline } from './pipelines';

const main = async () => {
  const [url, schema, concurrency] = process.argv.slice(2) as [string, string, string];
  const executions = new Map<string, number>();
  const registry = createRegistry();
  registry.registerPipeline(queuedPipeline((runId, step) => executions.set(`${runId}:${step}`, (executions.get(`${runId}:${step}`) ?? 0) + 1)));
  const c = await connect({ databaseUrl: url, schema, registry, migrate: false, poolSize: Number(concurrency) + 4 });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  const client = c.right;
  // A listener of our own on the worker's channel: when each queued run's NOTIFY reached this
  // process (wall clock, the same host clock as the database's), to split the claim latency.
  const notified = new Map<string, number>();
  const listener = new Client({ connectionString: url, application_name: 'orbit-bench-s8' });
  listener.on('error', () => undefined);
  await listener.connect();
  listener.on('notification', (n) => {
    const at = Date.now();
    const payload: unknown = JSON.parse(n.payload ?? 'null');
    if (typeof payload !== 'object' || payload === null || !('type' in payload) || payload.type !== 'run.queued') return;
    if ('run_id' in payload && typeof payload.run_id === 'string' && !notified.has(payload.run_id)) notified.set(payload.run_id, at);
  });
  await listener.query(`LISTEN ${listener.escapeIdentifier(client.db.channel)}`);
  const worker = await startWorker({ client, concurrency: Number(concurrency) });
  if (E.isLeft(worker)) throw new Error(formatError(worker.left));
  // The bench died: do not outlive it (its schema is dropped anyway).
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd !== 'stop') return;
    void (async () => {
      await worker.right.stop();
      await listener.end();
      await client.close();
      process.send?.({ executions: [...executions], notified: [...notified] }, undefined, undefined, () => process.exit(0));
    })();
  });
  process.send?.({ ready: true, workerId: client.workerId });
};

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
