// S9's peer (scripts/bench/s9.ts): graphile-worker (Orbit's devDependency) draining no-op jobs
// added in bulk, in a process of its own (graphile-worker is an ES module; the bench is CommonJS).
// { cmd: 'drain', jobs } adds `jobs` no-op jobs in one call (addJobs: one statement) and waits
// until the runner, at concurrency argv[4], has completed them all; replies { ok, jobs, ms,
// node_cpu_ms }. Set-up (migrations, the runner's start, a warm-up) happens before 'ready'.
// Schema: argv[3] of the database argv[2]. Speaks serve.mjs's protocol ({ cmd: 'stop' } ends it).

import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { serve, timed } from './peers/serve.mjs';

const [url, schema, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg ?? '16');
const quiet = new Logger(() => () => undefined);

await serve(async () => {
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger: quiet });
  await utils.migrate();
  let left = 0;
  let onDrained = () => undefined;
  const runner = await run({
    connectionString: url,
    schema,
    concurrency,
    maxPoolSize: concurrency + 4,
    taskList: { noop: async () => undefined },
    noHandleSignals: true,
    logger: quiet,
  });
  // A job is done once its completion is written (job:complete comes after that).
  runner.events.on('job:complete', ({ error }) => {
    if (error) console.error(`graphile-worker job failed: ${String(error)}`);
    if (--left === 0) onDrained();
  });
  const drain = async (jobs) => {
    left = jobs;
    const drained = new Promise((resolve) => (onDrained = resolve));
    const t = await timed(async () => {
      await utils.addJobs(Array.from({ length: jobs }, () => ({ identifier: 'noop', payload: {} })));
      await drained;
    });
    return { ...t, jobs };
  };
  await drain(200); // warm-up: connections, prepared plans
  return {
    drain: ({ jobs }) => drain(jobs),
    close: async () => {
      await runner.stop();
      await utils.release();
    },
  };
});
