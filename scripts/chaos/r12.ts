/**
 * R12: two versions of a pipeline and one worker (issue 20 item 2). Runs are queued by version 1
 * of chaos-4 (three steps: a deployment not yet rolled out) and by version 2 (the four-step
 * chaos-4 the worker loads); one real `orbit worker` runs. Must hold: every version-2 run succeeds
 * exactly once, with few claim rounds (no spin: the worker's own counter) and an idle worker's CPU
 * near zero afterwards; no version-1 run is claimed; the version-1 runs are reported as stranded
 * by the worker (its log), its metrics, `orbit workers` and `orbit check-interrupted`.
 */
import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import type { Pipeline } from '../../src/pipeline/types';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { checkJournal, orbit, PIPELINES, prepareSchema, sleep, waitUntil } from './context';
import type { Ctx, ScenarioResult } from './context';

/** CPU time (user + system, ms) a process has used so far, from /proc (null elsewhere). */
const cpuMs = (pid: number): number | null => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
};

const client = async (ctx: Ctx, schema: string, pipelines: readonly Pipeline[]): Promise<OrbitClient> => {
  const registry = createRegistry();
  for (const p of pipelines) registry.registerPipeline(p);
  const c = await connect({ databaseUrl: ctx.cluster.url, schema, registry, migrate: false });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  return c.right;
};

export const r12 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r12_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const oldN = ctx.small ? 5 : 50;
  const newN = ctx.small ? 10 : 200;
  const current = (require(PIPELINES) as Pipeline[]).filter((p) => p.name === 'chaos-4');
  const [v2] = current;
  if (v2 === undefined) throw new Error('chaos-4 is missing from scripts/chaos/pipelines.js');
  const v1 = definePipeline({ ...v2, steps: v2.steps.slice(0, 3) });
  const failures: string[] = [];
  const oldClient = await client(ctx, schema, [v1]);
  const newClient = await client(ctx, schema, current);
  const oldIds: string[] = [];
  const newIds: string[] = [];
  try {
    for (let i = 0; i < oldN; i++) {
      const q = await enqueueRun('chaos-4', { sleeps: [0, 0, 0] }, { client: oldClient });
      if (E.isLeft(q)) throw new Error(formatError(q.left));
      oldIds.push(q.right.runId);
    }
    for (let i = 0; i < newN; i++) {
      const sleeps = Array.from({ length: 4 }, () => ctx.rng.int(0, 20));
      const q = await enqueueRun('chaos-4', { sleeps }, { client: newClient });
      if (E.isLeft(q)) throw new Error(formatError(q.left));
      newIds.push(q.right.runId);
    }
  } finally {
    await oldClient.close();
    await newClient.close();
  }

  const started = Date.now();
  const w = orbit(ctx, schema, ['--json', 'worker', '--concurrency', '4', '--metrics-port', '0']);
  const lines = () =>
    w
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { kind: string; url?: string; stranded?: { runs: number; definitionHash: string }[] });
  let drainedMs = -1;
  let rounds = -1;
  let idleCpu: number | null = null;
  let strandedGauge = -1;
  let workersSays = false;
  let checkSays = false;
  try {
    const succeeded = async () =>
      Number(
        (await ctx.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".runs WHERE status = 'success'`)).rows[0]?.n,
      ) === newN;
    if (!(await waitUntil('the version-2 runs', succeeded, 120_000)))
      failures.push(`the ${newN} version-2 runs did not all succeed within 120 s`);
    drainedMs = Date.now() - started;
    // Idle now, with version-1 runs still queued: a spinning worker would burn CPU and rounds here.
    const before = w.child.pid === undefined ? null : cpuMs(w.child.pid);
    await sleep(5000);
    const after = w.child.pid === undefined ? null : cpuMs(w.child.pid);
    idleCpu = before === null || after === null ? null : after - before;
    const url = lines().find((l) => l.kind === 'metrics')?.url;
    if (url === undefined) failures.push('the worker printed no metrics URL');
    else {
      const text = await (await fetch(url)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      rounds = value('orbit_worker_claim_rounds_total');
      strandedGauge = value('orbit_worker_stranded_runs');
    }
    const label = `chaos-4@${v1.definitionHash.slice(0, 8)}`;
    const workers = orbit(ctx, schema, ['workers'], { pipelines: false });
    workersSays = (await workers.done).stdout.includes(
      `${oldN} queued runs of ${label} wait for a worker that has this definition`,
    );
    const check = orbit(ctx, schema, ['check-interrupted'], { pipelines: false });
    checkSays = (await check.done).stdout.includes(`${oldN} queued runs of ${label} wait for a worker`);
  } finally {
    w.child.kill('SIGINT');
  }
  const exit = await w.done;
  const logged = lines().filter((l) => l.kind === 'stranded');
  const loggedRight = logged.some((l) => l.stranded?.some((s) => s.runs === oldN && s.definitionHash === v1.definitionHash));
  const claimedOld = Number(
    (
      await ctx.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".run_events WHERE type = 'run.claimed' AND run_id = ANY($1)`,
        [oldIds],
      )
    ).rows[0]?.n,
  );
  const check = await checkJournal(ctx, schema, newIds);
  failures.push(...check.failures);
  if (claimedOld > 0) failures.push(`${claimedOld} version-1 run(s) claimed by a worker that cannot execute them`);
  // A round per freed slot at most (runs end one by one): about one query per run, never a spin.
  const maxRounds = newN + 10;
  if (!(rounds >= 1 && rounds <= maxRounds))
    failures.push(`${rounds} claim rounds for ${newN} runs (at most ${maxRounds} expected)`);
  if (idleCpu !== null && idleCpu > 500) failures.push(`the idle worker used ${idleCpu} ms of CPU in 5 s (spinning?)`);
  if (strandedGauge !== oldN) failures.push(`orbit_worker_stranded_runs is ${strandedGauge}, not ${oldN}`);
  if (!loggedRight) failures.push(`the worker's log did not report the ${oldN} stranded runs`);
  if (!workersSays) failures.push('orbit workers did not report the stranded runs');
  if (!checkSays) failures.push('orbit check-interrupted did not report the stranded runs');
  if (exit.code !== 0) failures.push(`the worker exited ${exit.code}: ${exit.stderr.trim().slice(0, 200)}`);
  return {
    id: 'R12',
    title: 'two pipeline versions, one worker: it claims only what it can execute',
    figures: [
      ['version-1 runs queued (stranded)', oldN],
      ['version-2 runs queued', newN],
      ['version-2 runs drained in', `${(drainedMs / 1000).toFixed(1)} s`],
      ['claim rounds (queries)', rounds],
      ['idle worker CPU over 5 s', idleCpu === null ? 'n/a' : `${idleCpu} ms`],
      ['version-1 runs claimed', claimedOld],
      ['stranded gauge', strandedGauge],
      ...check.figures,
    ],
    failures,
    ms: Date.now() - t0,
  };
};
