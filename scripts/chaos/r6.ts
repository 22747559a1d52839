/**
 * R6: a poison step (it SIGKILLs its own process on every attempt) beside healthy runs, all
 * interrupted by kill -9. Recovered twice over: by repeated `recover --auto-resume` rounds, and by
 * one `orbit worker`. Must hold: the poison run is failed by the recovery cap with its reason, the
 * healthy runs all succeed.
 */
import { checkJournal, orbit, prepareSchema, recoverUntilDone, sleep, statuses, waitUntil, worker } from './context';
import type { Ctx, RunSpec, ScenarioResult } from './context';

const CAP = /taken over \d+ times without finishing; giving up \(a step may be killing its worker\)/;

/** `healthy` runs killed -9 in s2 and one poison run that killed itself in s2. */
const crash = async (ctx: Ctx, schema: string, tag: string, healthy: number): Promise<{ healthy: string[]; poison: string }> => {
  const runs: RunSpec[] = Array.from({ length: healthy }, (_, i) => ({
    id: `r6-${ctx.seed}-${tag}-${i}`,
    pipeline: 'chaos-4',
    metadata: { sleeps: [0, 60_000, 0, 0], laterSleeps: [0, ctx.rng.int(0, 300), ctx.rng.int(0, 50), 0] },
  }));
  const ids = runs.map((r) => r.id);
  const w = worker(ctx, schema, runs, healthy);
  const ok = await waitUntil(
    'the healthy runs to be in s2',
    async () =>
      Number(
        (
          await ctx.pool.query<{ n: string }>(
            `SELECT count(DISTINCT run_id) AS n FROM "${schema}".run_events WHERE run_id = ANY($1) AND type = 'step.started' AND step_name = 's2'`,
            [ids],
          )
        ).rows[0]?.n ?? 0,
      ) === healthy,
    30_000,
  );
  if (!ok) throw new Error('the healthy runs never reached s2');
  w.child.kill('SIGKILL');
  await w.done;
  const poison = `r6-${ctx.seed}-${tag}-poison`;
  const p = worker(ctx, schema, [{ id: poison, pipeline: 'chaos-4', metadata: { sleeps: [0, 0, 0, 0], poison: 's2' } }], 1);
  const r = await p.done;
  if (r.signal !== 'SIGKILL') throw new Error(`the poison process ended with ${r.code ?? r.signal}, not SIGKILL`);
  return { healthy: ids, poison };
};

export const r6 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r6_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const healthyN = ctx.small ? 2 : 6;
  const failures: string[] = [];

  const outcome = async (healthy: string[], poison: string, how: string) => {
    const st = await statuses(ctx, schema, [...healthy, poison]);
    const healthyFailed = healthy.filter((id) => st.get(id) !== 'success').length;
    const p = await ctx.pool.query<{ status: string; error: string | null; recovery_count: number }>(
      `SELECT status, error, recovery_count FROM "${schema}".runs WHERE id = $1`,
      [poison],
    );
    const row = p.rows[0];
    const capped = row?.status === 'failed' && CAP.test(row.error ?? '');
    if (healthyFailed > 0) failures.push(`${how}: ${healthyFailed} healthy run(s) did not succeed`);
    if (!capped) failures.push(`${how}: poison run ended ${row?.status ?? 'absent'} (${row?.error ?? 'no error'}), not capped`);
    return { healthyFailed, capped, takeovers: row?.recovery_count ?? -1 };
  };

  // 1. Repeated recover --auto-resume (the poison kills the recoverer each time it is resumed).
  const a = await crash(ctx, schema, 'recover', healthyN);
  const rounds = await recoverUntilDone(ctx, schema, [...a.healthy, a.poison], { recoverers: 1, timeoutMs: 120_000 });
  if (!rounds.done) failures.push('recover: the runs did not all end within 120 s');
  const ra = await outcome(a.healthy, a.poison, 'recover');

  // 2. One orbit worker, which must survive its poison.
  const b = await crash(ctx, schema, 'worker', healthyN);
  const tw = Date.now();
  const w = orbit(ctx, schema, ['worker', '--threshold', '1s']);
  const ended = await waitUntil(
    'the worker to end every run',
    async () => {
      const st = await statuses(ctx, schema, [...b.healthy, b.poison]);
      return [...b.healthy, b.poison].every((id) => ['success', 'failed', 'cancelled'].includes(st.get(id) ?? ''));
    },
    120_000,
  );
  const workerMs = Date.now() - tw;
  if (!ended) failures.push('worker: the runs did not all end within 120 s');
  await sleep(200);
  w.child.kill('SIGINT');
  const wExit = await w.done;
  if (wExit.code !== 0) failures.push(`worker exited ${wExit.code ?? wExit.signal} after SIGINT (expected 0)`);
  const rb = await outcome(b.healthy, b.poison, 'worker');

  const healthyIds = [...a.healthy, ...b.healthy];
  const check = await checkJournal(ctx, schema, healthyIds);
  failures.push(...check.failures);
  return {
    id: 'R6',
    title: `a poison step beside ${healthyN} healthy runs, twice: recover --auto-resume rounds, orbit worker`,
    figures: [
      ['healthy runs failed', ra.healthyFailed + rb.healthyFailed],
      ['poison runs capped', `${Number(ra.capped) + Number(rb.capped)}/2`],
      ['poison takeovers (recover, worker)', `${ra.takeovers}, ${rb.takeovers}`],
      ['recover rounds', rounds.rounds],
      ['worker: time to end all (s)', (workerMs / 1000).toFixed(1)],
      ...check.figures,
    ],
    failures,
    ms: Date.now() - t0,
  };
};
