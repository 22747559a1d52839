/**
 * R1: runs over many worker processes, random `kill -9`, then recovery by racing recoverers and a
 * worker. Must hold: every run succeeds, no double success, no seq gap, one ledger effect per key.
 */
import { checkJournal, orbit, prepareSchema, randomRun, recoverUntilDone, sleep, statuses, waitUntil, worker } from './context';
import type { Ctx, Proc, RunSpec, ScenarioResult } from './context';

export const r1 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r1_${ctx.seed}`;
  const runs = ctx.small ? 16 : 200;
  const slots = ctx.small ? 3 : 10;
  const killsWanted = ctx.small ? 3 : 50;
  const batch = ctx.small ? 4 : 8;
  await prepareSchema(ctx, schema);

  const planned: RunSpec[] = Array.from({ length: runs }, (_, i) => randomRun(ctx, `r1-${ctx.seed}-${i}`, [10, 120]));
  const queue = [...planned];
  const live = new Set<{ proc: Proc; runs: RunSpec[]; startedAt: number; killed: boolean }>();
  let spawned = 0;
  let kills = 0;
  let crashed = 0;

  const spawnOne = () => {
    const mine = queue.splice(0, batch);
    if (mine.length === 0) return;
    spawned += 1;
    const entry = { proc: worker(ctx, schema, mine, batch), runs: mine, startedAt: Date.now(), killed: false };
    live.add(entry);
    void entry.proc.done.then(async (r) => {
      if (!entry.killed && r.code !== 0) crashed += 1;
      // Runs this process never created go back in the queue; created ones are recovery's.
      const st = await statuses(
        ctx,
        schema,
        mine.map((x) => x.id),
      );
      queue.push(...mine.filter((x) => !st.has(x.id)));
      live.delete(entry);
    });
  };

  const killer = (async () => {
    while (kills < killsWanted && (queue.length > 0 || live.size > 0)) {
      // Often enough that the kills land while runs are still being dispatched.
      await sleep(ctx.rng.int(40, 160));
      // Kill a process in the middle of its runs (one that holds a running run).
      const alive = [...live].filter((e) => !e.killed);
      const st = await statuses(
        ctx,
        schema,
        alive.flatMap((e) => e.runs.map((x) => x.id)),
      );
      const candidates = alive.filter((e) => e.runs.some((x) => st.get(x.id) === 'running'));
      if (candidates.length === 0) continue;
      const victim = ctx.rng.pick(candidates);
      victim.killed = true;
      victim.proc.child.kill('SIGKILL');
      kills += 1;
    }
  })();

  while (queue.length > 0 || live.size > 0) {
    while (live.size < slots && queue.length > 0) spawnOne();
    await sleep(50);
  }
  await killer;

  // Recovery: a worker plus rounds of 3 racing `recover --auto-resume`.
  const tRecover = Date.now();
  const ids = planned.map((r) => r.id);
  const w = orbit(ctx, schema, ['worker', '--threshold', '1s', '--concurrency', '8']);
  await waitUntil('the worker to listen', async () => w.stdout().includes('Recovery worker'), 30_000);
  const rec = await recoverUntilDone(ctx, schema, ids, { recoverers: 3, timeoutMs: ctx.small ? 60_000 : 180_000 });
  w.child.kill('SIGTERM');
  const wr = await w.done;
  const recoverMs = Date.now() - tRecover;

  const resumed = Number(
    (
      await ctx.pool.query<{ n: string }>(
        `SELECT count(DISTINCT run_id) AS n FROM "${schema}".run_events WHERE type = 'run.resumed' AND run_id = ANY($1)`,
        [ids],
      )
    ).rows[0]?.n ?? 0,
  );
  const check = await checkJournal(ctx, schema, ids);
  const failures = [...check.failures];
  if (!rec.done) failures.push('recovery did not finish in time');
  if (crashed > 0) failures.push(`${crashed} worker process(es) exited non-zero without being killed`);
  if (wr.code !== 0) failures.push(`orbit worker exited ${wr.code ?? wr.signal}: ${wr.stderr.trim().split('\n')[0] ?? ''}`);
  return {
    id: 'R1',
    title: `${runs} runs, ${slots} processes at a time, kill -9, 3 recoverers + a worker`,
    figures: [
      ['runs', runs],
      ['processes', spawned],
      ['kill -9', kills],
      ['runs resumed', resumed],
      ['recovery rounds', rec.rounds],
      ['time to recover (s)', (recoverMs / 1000).toFixed(1)],
      ...check.figures,
    ],
    failures,
    ms: Date.now() - t0,
  };
};
