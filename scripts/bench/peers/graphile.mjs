// graphile-worker's equivalents of S1 and S2, as chains of no-op jobs: each job queues the next
// one of its chain before it completes, so a step starts only after the previous one ran, as in
// a workflow (and as Orbit's steps do). S1: one chain of N jobs at concurrency 1. S2: 16 chains
// (`concurrency`) sharing runs x steps jobs, at concurrency 16: always 16 "runs" in flight.
// Two runners (concurrency 1 and 16) on one schema, each knowing only its own task, so neither
// takes the other's jobs. Schema: argv[3] of the database argv[2].

import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { serve, timed } from './serve.mjs';

const [url, schema] = process.argv.slice(2);
const quiet = new Logger(() => () => undefined);

await serve(async () => {
  let onChainEnd = () => undefined;
  const chainTask = (task) => ({
    [task]: async (payload, helpers) => {
      if (payload.left > 1) await helpers.addJob(task, { left: payload.left - 1 });
    },
  });
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger: quiet });
  await utils.migrate();
  const start = (concurrency) =>
    run({
      connectionString: url,
      schema,
      concurrency,
      maxPoolSize: concurrency + 4,
      taskList: chainTask(`noop${concurrency}`),
      noHandleSignals: true,
      logger: quiet,
    });
  // A chain has ended once its last job's completion is written (job:complete comes after that).
  const watch = (runner) =>
    runner.events.on('job:complete', ({ job, error }) => {
      if (error) console.error(`graphile-worker job failed: ${String(error)}`);
      if (job.payload.left === 1) onChainEnd();
    });
  const chains = async (runner, task, lanes, jobs) => {
    const per = Math.floor(jobs / lanes);
    let ended = 0;
    const done = new Promise((resolve) => {
      onChainEnd = () => {
        if (++ended === lanes) resolve();
      };
    });
    const t = await timed(async () => {
      await Promise.all(Array.from({ length: lanes }, () => runner.addJob(task, { left: per })));
      await done;
    });
    return { ...t, steps: per * lanes };
  };
  const one = await start(1);
  const sixteen = await start(16);
  watch(one);
  watch(sixteen);
  await chains(one, 'noop1', 1, 10); // warm-up: connections, prepared plans
  await chains(sixteen, 'noop16', 16, 32);
  return {
    s1: ({ steps }) => chains(one, 'noop1', 1, steps),
    s2: ({ runs, steps, concurrency }) => chains(sixteen, 'noop16', concurrency, runs * steps),
    close: async () => {
      await one.stop();
      await sixteen.stop();
      await utils.release();
    },
  };
});
