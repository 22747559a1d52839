/**
 * R4: a zombie. A chaos worker process (ORBIT_LEASE 2s) is SIGSTOPped in the middle of a long step,
 * past its lease; `orbit resume <id> --threshold 1s` takes each run over without --force (the lease expired) and
 * finishes it; then the zombie gets SIGCONT. Must hold: zero appends by the zombie after the
 * takeover, the zombie's step sees its signal abort, each run ends succeeded exactly once.
 */
import { checkJournal, orbit, prepareSchema, sleep, waitUntil, worker } from './context';
import type { Ctx, RunSpec, ScenarioResult } from './context';

const LEASE = { ORBIT_LEASE: '2s' };

export const r4 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r4_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const n = ctx.small ? 2 : 6;
  const runs: RunSpec[] = Array.from({ length: n }, (_, i) => ({
    id: `r4-${ctx.seed}-${i}`,
    pipeline: 'chaos-4',
    // The first attempt of s2 would sleep a minute: only its signal ends it early.
    metadata: { sleeps: [ctx.rng.int(0, 50), 60_000, 0, 0], laterSleeps: [0, ctx.rng.int(0, 50), 0, 0] },
  }));
  const ids = runs.map((r) => r.id);
  const zombie = worker(ctx, schema, runs, n, ctx.cluster.url, LEASE);
  const failures: string[] = [];
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
    30_000,
  );
  if (!inS2) failures.push('the runs never reached s2');
  zombie.child.kill('SIGSTOP');
  const tStop = Date.now();
  await sleep(3_500); // past the 2 s lease
  const resumes = await Promise.all(
    ids.map((id) => orbit(ctx, schema, ['resume', id, '--threshold', '1s'], { env: LEASE }).done),
  );
  const takeoverMs = Date.now() - tStop;
  const badResumes = resumes.filter((r) => r.code !== 0);
  if (badResumes.length > 0)
    failures.push(`${badResumes.length} resume(s) exited non-zero: ${badResumes[0]?.stderr.trim().slice(0, 200)}`);

  zombie.child.kill('SIGCONT');
  const tCont = Date.now();
  const zExit = await Promise.race([zombie.done, sleep(30_000).then(() => null)]);
  if (zExit === null) {
    failures.push('the zombie was still running 30 s after SIGCONT (its step signal did not abort)');
    zombie.child.kill('SIGKILL');
    await zombie.done;
  }
  const zombieExitMs = Date.now() - tCont;
  const stderr = zExit?.stderr ?? '';
  const aborted = ids.filter((id) => stderr.includes(`aborted ${id} s2 1`)).length;
  if (aborted !== n) failures.push(`${n - aborted} zombie step(s) did not see their signal abort`);
  await sleep(500); // anything the zombie had left to say has reached the database

  // The zombie's writer: who journaled the first attempt of s2. Its appends after run.resumed.
  const z = await ctx.pool.query<{ run_id: string; writer: string; resumed: string | null; after: string; total: string }>(
    `SELECT s.run_id, s.writer,
            (SELECT min(seq) FROM "${schema}".run_events r WHERE r.run_id = s.run_id AND r.type = 'run.resumed') AS resumed,
            (SELECT count(*) FROM "${schema}".run_events a WHERE a.run_id = s.run_id AND a.writer = s.writer
               AND a.seq > (SELECT min(seq) FROM "${schema}".run_events r WHERE r.run_id = s.run_id AND r.type = 'run.resumed')) AS after,
            (SELECT count(*) FROM "${schema}".run_events t WHERE t.run_id = s.run_id AND t.type = 'run.succeeded') AS total
       FROM "${schema}".run_events s
      WHERE s.run_id = ANY($1) AND s.type = 'step.started' AND s.step_name = 's2' AND s.attempt = 1`,
    [ids],
  );
  const zombieAppends = z.rows.reduce((acc, r) => acc + Number(r.after), 0);
  const notTaken = z.rows.filter((r) => r.resumed === null).length;
  const succeededTwice = z.rows.filter((r) => Number(r.total) !== 1).length;
  if (z.rows.length !== n) failures.push(`${n - z.rows.length} run(s) without a journaled first attempt of s2`);
  if (notTaken > 0) failures.push(`${notTaken} run(s) never taken over (no run.resumed)`);
  if (zombieAppends > 0) failures.push(`${zombieAppends} append(s) by the zombie after the takeover`);
  if (succeededTwice > 0) failures.push(`${succeededTwice} run(s) without exactly one run.succeeded`);
  const check = await checkJournal(ctx, schema, ids);
  failures.push(...check.failures);
  return {
    id: 'R4',
    title: `${n} runs in a worker SIGSTOPped past its 2 s lease, taken over by orbit resume, then SIGCONT`,
    figures: [
      ['runs taken over', n - notTaken],
      ['zombie appends after takeover', zombieAppends],
      ['zombie steps aborted by signal', `${aborted}/${n}`],
      ['stop to takeover done (s)', (takeoverMs / 1000).toFixed(1)],
      ['SIGCONT to zombie exit (s)', (zombieExitMs / 1000).toFixed(1)],
      ['zombie exit code', zExit?.code ?? 'killed'],
      ...check.figures,
    ],
    failures,
    ms: Date.now() - t0,
  };
};
