/**
 * R14: `statement_timeout` and `lock_timeout` set on the runtime role (issue 20 item 4): runs in
 * chaos worker processes connected as a role with `statement_timeout = '50ms'`, then as one with
 * `lock_timeout = '1ms'`. A cancelled statement (57014) or a lock not granted (55P03) rolled back
 * whole and is retried within the retry budget. Must hold: every run succeeded (none failed with
 * "could not journal the run's progress"), each step's effect once, no seq gap, chain and
 * projections intact.
 */
import { checkJournal, prepareSchema, randomRun, worker } from './context';
import type { Ctx, Figure, RunSpec, ScenarioResult } from './context';

const SETTINGS: ReadonlyArray<readonly [string, string, string]> = [
  ['statement_timeout', '50ms', 'chaos_r14_statement'],
  ['lock_timeout', '1ms', 'chaos_r14_lock'],
];

export const r14 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r14_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const perSetting = ctx.small ? 12 : 200;
  const procs = ctx.small ? 2 : 4;
  const failures: string[] = [];
  const figures: Figure[] = [];
  const all: string[] = [];
  for (const [setting, value, role] of SETTINGS) {
    // A role of its own (with a password: the throwaway cluster trusts only its owner), the setting on the role.
    await ctx.pool.query(
      `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD 'chaos-r14'; END IF; END $$`,
    );
    await ctx.pool.query(`ALTER ROLE ${role} SET ${setting} = '${value}'`);
    const url = new URL(ctx.cluster.url);
    url.username = role;
    url.password = 'chaos-r14';
    const runs: RunSpec[] = Array.from({ length: perSetting }, (_, i) => randomRun(ctx, `r14-${ctx.seed}-${role}-${i}`, [0, 5]));
    const per = Math.ceil(runs.length / procs);
    const exits = await Promise.all(
      Array.from({ length: procs }, (_, p) => worker(ctx, schema, runs.slice(p * per, (p + 1) * per), 8, url.toString()).done),
    );
    const crashed = exits.filter((e) => e.code !== 0);
    if (crashed.length > 0)
      failures.push(
        `${setting}: ${crashed.length} worker process(es) exited ${crashed[0]?.code}: ${crashed[0]?.stderr.trim().split('\n').pop() ?? ''}`,
      );
    const ids = runs.map((r) => r.id);
    all.push(...ids);
    const journalFailures = Number(
      (
        await ctx.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}".run_events WHERE run_id = ANY($1) AND type = 'run.failed'`,
          [ids],
        )
      ).rows[0]?.n ?? 0,
    );
    figures.push([`${setting} = ${value} on the role: runs failed`, `${journalFailures}/${perSetting}`]);
  }
  const check = await checkJournal(ctx, schema, all);
  failures.push(...check.failures);
  figures.push(...check.figures);
  return { id: 'R14', title: 'statement_timeout and lock_timeout on the role', figures, failures, ms: Date.now() - t0 };
};
