/**
 * One of S8's two worker processes: `startWorker` (what `orbit worker` runs) on the bench schema,
 * its handlers counting every step execution. On { cmd: 'stop' } it stops the worker and sends
 * those counts back, so the parent can check that no step ran twice across both processes.
 *   fork s8child.js <url> <schema> <concurrency>
 */
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { createRegistry } from '../../src/pipeline/registry';
import { startWorker } from '../../src/recovery/recoveryWorker';
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
  const worker = await startWorker({ client, concurrency: Number(concurrency) });
  if (E.isLeft(worker)) throw new Error(formatError(worker.left));
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd !== 'stop') return;
    void (async () => {
      await worker.right.stop();
      await client.close();
      process.send?.({ executions: [...executions] }, undefined, undefined, () => process.exit(0));
    })();
  });
  process.send?.({ ready: true, workerId: client.workerId });
};

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
