/**
 * R2: the database goes away under executing runs — a fast restart, a stop of 15 s, and
 * pg_terminate_backend on every Orbit connection. Must hold: every run ends succeeded, in its
 * process (transient failures ridden out) or after one recovery round.
 */
import { checkJournal, orbit, prepareSchema, randomRun, sleep, statuses, waitUntil, worker } from './context';
import type { Ctx, Figure, RunSpec, ScenarioResult } from './context';

type Fault = readonly [string, (ctx: Ctx) => Promise<void>];

export const r2 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r2_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const runsPerFault = ctx.small ? 6 : 20;
  const procs = ctx.small ? 1 : 4;
  const downMs = ctx.small ? 1_500 : 15_000;
  const faults: Fault[] = [
    ['fast restart', (c) => c.cluster.restart()],
    [
      `stopped ${downMs / 1000} s`,
      async (c) => {
        await c.cluster.stop();
        await sleep(downMs);
        await c.cluster.start();
      },
    ],
    [
      'pg_terminate_backend',
      async (c) => {
        await c.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'orbit'`);
      },
    ],
  ];
  const figures: Figure[] = [];
  const failures: string[] = [];
  const all: string[] = [];
  for (const [i, [name, inject]] of faults.entries()) {
    const runs: RunSpec[] = Array.from({ length: runsPerFault }, (_, k) =>
      randomRun(ctx, `r2-${ctx.seed}-${i}-${k}`, ctx.small ? [50, 200] : [100, 400]),
    );
    const ids = runs.map((r) => r.id);
    all.push(...ids);
    const per = Math.ceil(runs.length / procs);
    const children = Array.from({ length: procs }, (_, p) => worker(ctx, schema, runs.slice(p * per, (p + 1) * per), per));
    const claimed = await waitUntil(
      'every run to be claimed',
      async () => (await statuses(ctx, schema, ids)).size === ids.length,
      60_000,
    );
    if (!claimed) failures.push(`${name}: the runs did not all start`);
    const tFault = Date.now();
    await inject(ctx);
    const exits = await Promise.all(children.map((c) => c.done));
    const st = await statuses(ctx, schema, ids);
    const unfinished = ids.filter((id) => st.get(id) !== 'success').length;
    const errorLines = exits.flatMap((e) => e.stdout.split('\n').filter((l) => / error:/.test(l)));
    const badExits = exits.filter((e) => e.code !== 0).length;
    let rounds = 0;
    if (unfinished > 0) {
      // One recovery round, as an operator (or cron) would run it.
      rounds = 1;
      await sleep(1_200);
      await orbit(ctx, schema, ['recover', '--auto-resume', '--threshold', '1s']).done;
    }
    const after = await statuses(ctx, schema, ids);
    const lost = ids.filter((id) => after.get(id) !== 'success').length;
    const recoverS = ((Date.now() - tFault) / 1000).toFixed(1);
    figures.push(
      [`${name}: ended in-process`, runsPerFault - unfinished],
      [`${name}: needed recovery`, unfinished],
      [`${name}: process errors / exits`, `${errorLines.length} / ${badExits}`],
      [`${name}: lost`, lost],
      [`${name}: time to all succeeded (s)`, recoverS],
    );
    if (lost > 0) failures.push(`${name}: ${lost} run(s) not succeeded after ${rounds} recovery round(s)`);
    if (badExits > 0)
      failures.push(
        `${name}: ${badExits} worker process(es) crashed: ${exits
          .find((e) => e.code !== 0)
          ?.stderr.trim()
          .slice(0, 3000)}`,
      );
  }
  const check = await checkJournal(ctx, schema, all);
  return {
    id: 'R2',
    title: `PostgreSQL restarted, stopped, and its backends terminated, each under ${runsPerFault} executing runs`,
    figures: [...figures, ...check.figures],
    failures: [...failures, ...check.failures],
    ms: Date.now() - t0,
  };
};
