/**
 * R13: a database outage longer than the workers' give-up time, under two `orbit worker`
 * processes with the default threshold (10 minutes). The workers give their runs up (neither the
 * progress nor the release can be written) and stay alive; once the database is back each writes
 * the releases it owes, and the runs are resumed at once (issue 20 item 3). Must hold: both
 * workers alive, every run succeeded within a minute of the return (not a threshold later), each
 * step's effect once, no seq gap, hash chain and projections intact.
 */
import { checkJournal, orbit, prepareSchema, sleep, statuses, waitUntil, type Proc } from './context';
import type { Ctx, Figure, ScenarioResult } from './context';

export const r13 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r13_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const n = ctx.small ? 6 : 16;
  // Full: a 90 s outage against the default give-up time (a 15 s lease, then a 30 s retry budget
  // for the release and another for its fallback). Small: a 1 s lease and retry budget, 6 s down.
  const downMs = ctx.small ? 6_000 : 90_000;
  const env: Record<string, string> = ctx.small ? { ORBIT_LEASE: '1s', ORBIT_RETRY_BUDGET_MS: '1000' } : {};
  const failures: string[] = [];
  const workers: Proc[] = [];
  const ids = Array.from({ length: n }, (_, i) => `r13-${ctx.seed}-${i}`);
  try {
    for (let i = 0; i < 2; i++) {
      const w = orbit(ctx, schema, ['worker', '--concurrency', String(n)], { env });
      workers.push(w);
      if (!(await waitUntil('a worker to listen', async () => w.stdout().includes('listening on'), 30_000))) {
        throw new Error('a worker did not start listening within 30 s');
      }
    }
    // Every run sleeps long in s2 (cut short by its signal when the lease lapses); a resumed s2 does not.
    const queued = await Promise.all(
      ids.map(
        (id) =>
          orbit(ctx, schema, [
            'run',
            'chaos-4',
            '--queue',
            '--run-id',
            id,
            '--metadata',
            JSON.stringify({ sleeps: [0, 600_000, 0, 0], laterSleeps: [0, ctx.rng.int(0, 50), 0, 0] }),
          ]).done,
      ),
    );
    const badQueue = queued.filter((q) => q.code !== 0);
    if (badQueue.length > 0) throw new Error(`orbit run --queue failed: ${badQueue[0]?.stderr.trim() ?? ''}`);
    const inS2 = await waitUntil(
      'every run to be in s2',
      async () =>
        Number(
          (
            await ctx.pool.query<{ n: string }>(
              `SELECT count(DISTINCT run_id) AS n FROM "${schema}".run_events WHERE run_id = ANY($1) AND type = 'step.started' AND step_name = 's2'`,
              [ids],
            )
          ).rows[0]?.n ?? 0,
        ) === n,
      60_000,
    );
    if (!inS2) throw new Error('not every run reached s2 within 60 s');
    await ctx.cluster.stop();
    await sleep(downMs);
    await ctx.cluster.start();
    const back = Date.now();
    const done = await waitUntil(
      'every run to succeed',
      async () => {
        const st = await statuses(ctx, schema, ids).catch(() => new Map<string, string>());
        return ids.every((id) => st.get(id) === 'success');
      },
      60_000,
    );
    const finishedMs = Date.now() - back;
    if (!done) failures.push(`not every run succeeded within 60 s of the database's return (threshold 10 min)`);
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length;
    if (alive !== 2) failures.push(`${2 - alive} worker(s) exited during the outage`);
    const givenUp = Number(
      (
        await ctx.pool.query<{ n: string }>(
          `SELECT count(DISTINCT run_id) AS n FROM "${schema}".run_events WHERE run_id = ANY($1) AND type = 'run.released'
              AND payload->>'reason' = 'cannot reach the database'`,
          [ids],
        )
      ).rows[0]?.n ?? 0,
    );
    const check = await checkJournal(ctx, schema, ids);
    failures.push(...check.failures);
    const figures: Figure[] = [
      ['runs (two workers)', n],
      ['database down', `${(downMs / 1000).toFixed(0)} s`],
      ['runs given up, released on return', givenUp],
      ['all succeeded after the return', done ? `${(finishedMs / 1000).toFixed(1)} s` : 'no'],
      ['workers alive after', `${alive}/2`],
      ...check.figures,
    ];
    return {
      id: 'R13',
      title: 'database outage past the give-up time under two workers',
      figures,
      failures,
      ms: Date.now() - t0,
    };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
  }
};
