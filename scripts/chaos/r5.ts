/**
 * R5: ambiguous commits. Orbit talks to PostgreSQL through a proxy that drops the reply to a share
 * of appends after they committed. Must hold: the retried append finds its events (no duplicate
 * event, no step executed twice), and every run succeeds.
 */
import { checkJournal, prepareSchema, randomRun, worker } from './context';
import type { Ctx, RunSpec, ScenarioResult } from './context';
import { startAmbiguityProxy } from './proxy';

export const r5 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r5_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const share = ctx.small ? 0.05 : 0.01;
  const runsN = ctx.small ? 12 : 100;
  const procs = ctx.small ? 2 : 4;
  const proxy = await startAmbiguityProxy(ctx.cluster.port, () => ctx.rng.next() < share);
  const url = new URL(ctx.cluster.url);
  url.port = String(proxy.port);
  const runs: RunSpec[] = Array.from({ length: runsN }, (_, i) => randomRun(ctx, `r5-${ctx.seed}-${i}`, [0, 20]));
  const per = Math.ceil(runs.length / procs);
  let exits: Array<{ code: number | null; stderr: string; stdout: string }>;
  try {
    const children = Array.from({ length: procs }, (_, p) =>
      worker(ctx, schema, runs.slice(p * per, (p + 1) * per), Math.min(per, 8), url.toString()),
    );
    exits = await Promise.all(children.map((c) => c.done));
  } finally {
    await proxy.close();
  }
  const ids = runs.map((r) => r.id);
  const duplicates = Number(
    (
      await ctx.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT 1 FROM "${schema}".run_events WHERE run_id = ANY($1)
           GROUP BY run_id, type, step_name, attempt HAVING count(*) > 1) x`,
        [ids],
      )
    ).rows[0]?.n ?? 0,
  );
  const appends = Number(
    (
      await ctx.pool.query<{ n: string }>(
        `SELECT count(DISTINCT (run_id, occurred_at, writer)) AS n FROM "${schema}".run_events WHERE run_id = ANY($1)`,
        [ids],
      )
    ).rows[0]?.n ?? 0,
  );
  const check = await checkJournal(ctx, schema, ids);
  const failures = [...check.failures];
  if (duplicates > 0) failures.push(`${duplicates} event(s) journaled twice`);
  if (check.counts.reExecuted > 0) failures.push(`${check.counts.reExecuted} step(s) executed again after an ambiguous commit`);
  const bad = exits.filter((e) => e.code !== 0);
  if (bad.length > 0) failures.push(`${bad.length} worker process(es) exited non-zero: ${bad[0]?.stderr.trim().slice(0, 200)}`);
  const errors = exits.flatMap((e) => e.stdout.split('\n').filter((l) => / error:/.test(l)));
  if (errors.length > 0) failures.push(`${errors.length} run(s) ended with an error in-process: ${errors[0]}`);
  return {
    id: 'R5',
    title: `ambiguous commits: a proxy drops the reply to ${share * 100}% of appends`,
    figures: [
      ['runs', runsN],
      ['appends (approx.)', appends],
      ['replies dropped after commit', proxy.dropped()],
      ['duplicates', duplicates],
      ...check.figures,
    ],
    failures,
    ms: Date.now() - t0,
  };
};
