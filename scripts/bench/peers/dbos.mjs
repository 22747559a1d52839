// DBOS Transact's equivalents of S1 and S2: a workflow of N no-op steps (DBOS.runStep), run
// sequentially; and `runs` workflows of 5 steps, `concurrency` at a time, all in this process.
// Its system database lives in the schema given (argv[3]) of the bench's database (argv[2]).

import { DBOS } from '@dbos-inc/dbos-sdk';
import { forEachConcurrent, serve, timed } from './serve.mjs';

const [url, schema] = process.argv.slice(2);

await serve(async () => {
  DBOS.setConfig({
    name: 'orbit-bench',
    systemDatabaseUrl: url,
    systemDatabaseSchemaName: schema,
    // One connection per concurrent workflow, as Orbit's S2 client gets.
    systemDatabasePoolSize: 24,
    logLevel: 'error',
  });
  const noop = async () => undefined;
  const workflow = DBOS.registerWorkflow(
    async (steps) => {
      for (let i = 0; i < steps; i++) await DBOS.runStep(noop, { name: `s${i + 1}` });
      return steps;
    },
    { name: 'bench-noop' },
  );
  await DBOS.launch();
  await workflow(10); // warm-up: connections, prepared plans
  return {
    s1: ({ steps }) => timed(() => workflow(steps)).then((t) => ({ ...t, steps })),
    s2: ({ runs, steps, concurrency }) =>
      timed(() => forEachConcurrent(runs, concurrency, () => workflow(steps))).then((t) => ({ ...t, steps: runs * steps })),
    close: () => DBOS.shutdown(),
  };
});
