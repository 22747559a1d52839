import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { loadRunState } from '../../src/journal/loadRunState';
import { createRegistry } from '../../src/pipeline/registry';
import { diffRun } from '../../src/projections/checkProjections';
import { reconstructStepContext } from '../../src/api/reconstructStepContext';
import { runPipeline } from '../../src/executor/runPipeline';
import { buildStepContext } from '../../src/executor/stepContext';
import { BaselineTable } from './baseline';
import { checkSeededRuns } from './check';
import type { BenchContext } from './context';
import { noopPipeline } from './pipelines';
import type { ScenarioResult } from './report';
import { installSeedFunctions, seedJournal } from './seed';
import { median, nowMs } from './stats';

const timeIt = async (calls: number, work: () => Promise<void>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < calls + 2; i++) {
    const t0 = nowMs();
    await work();
    if (i >= 2) times.push(nowMs() - t0);
  }
  return median(times);
};

/**
 * S5: reconstructStepContext for a run with 10,000 events: a 5,000-step pipeline, 4,999 steps
 * succeeded (each with a small result), the last one next. The context carries every earlier
 * step's result, so this is the heavy end of what recovery rebuilds. Also times the parts
 * (journal replay, projection check, context build) to say where the time goes.
 */
export const runS5 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const events = Math.max(100, Math.round(ctx.size(10_000, 2_000) / 2) * 2);
  const steps = events / 2;
  const calls = ctx.opts.quick ? 5 : 15;
  const registry = createRegistry();
  const pipeline = noopPipeline('bench-s5', steps);
  registry.registerPipeline(pipeline);
  const client = await ctx.client('s5', { registry });
  const pg = await ctx.raw();
  const runId = 'r5-00000001';
  try {
    await installSeedFunctions(pg, client.db.schema);
    const t0 = nowMs();
    const written = await seedJournal(pg, client.db.schema, {
      from: 1,
      to: 2,
      prefix: 'r5',
      shape: { mode: 'linear', pipeline: 'bench-s5', steps },
      lastSeqSql: String(events),
      doneSql: 'false',
      ownerSql: `'bench-dead-worker'`,
      baseSql: `now() - interval '1 day'`,
      spacingMs: 0,
    });
    await checkSeededRuns(client.db, [runId]);
    ctx.log(`S5: seeded a run of ${written.toLocaleString('en-US')} events in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await pg.end();
  }

  let nextStep = '';
  const total = await timeIt(calls, async () => {
    const r = await reconstructStepContext(runId, 'bench-s5', { client });
    if (E.isLeft(r)) throw new Error(`S5 reconstruct: ${formatError(r.left)}`);
    nextStep = r.right.stepName;
  });
  const load = await timeIt(calls, async () => {
    const r = await loadRunState(client.db, runId);
    if (E.isLeft(r)) throw new Error(formatError(r.left));
  });
  const diff = await timeIt(calls, async () => {
    const r = await diffRun(client.db, runId);
    if (E.isLeft(r)) throw new Error(formatError(r.left));
  });
  const state = await loadRunState(client.db, runId);
  if (E.isLeft(state)) throw new Error(formatError(state.left));
  const build = await timeIt(calls, async () => {
    buildStepContext(state.right, pipeline, nextStep, 1, new AbortController().signal);
  });
  const withoutCheck = await timeIt(calls, async () => {
    const r = await reconstructStepContext(runId, 'bench-s5', { client, checkProjections: false });
    if (E.isLeft(r)) throw new Error(formatError(r.left));
  });
  ctx.log(`S5: ${total.toFixed(1)} ms (replay ${load.toFixed(1)}, projection check ${diff.toFixed(1)}, context ${build.toFixed(1)})`);
  const long = await longRun(ctx, registry, client);
  return {
    id: 'S5',
    title: `reconstructStepContext, run of ${events.toLocaleString('en-US')} events`,
    figure: 'ms per call',
    value: total,
    ratio: null,
    goal: '< 200 ms',
    met: total < 200,
    details: {
      events,
      steps,
      next_step: nextStep,
      replay_ms: load,
      projection_check_ms: diff,
      build_context_ms: build,
      without_projection_check_ms: withoutCheck,
      long_run_steps: long.steps,
      long_run_first_thousand_s: long.firstS,
      long_run_last_thousand_s: long.lastS,
      long_run_last_to_first: long.ratio,
      long_run_goal_met: long.ratio <= 1.2,
      long_run_per_thousand_s: long.perThousandS,
      long_run_cpu_per_thousand_s: long.cpuPerThousandS,
      long_run_cpu_last_to_first: long.cpuRatio,
      long_run_baseline_1_before: long.baselineBefore,
      long_run_baseline_1_after: long.baselineAfter,
    },
  };
};

/** What S5's long run measured (`long_run_*` in its details). */
interface LongRun {
  readonly steps: number;
  /** Wall seconds of each thousand steps, in order. */
  readonly perThousandS: readonly number[];
  /** CPU seconds of this process for each thousand steps (less sensitive to a loaded machine than wall time). */
  readonly cpuPerThousandS: readonly number[];
  readonly firstS: number;
  readonly lastS: number;
  readonly ratio: number;
  readonly cpuRatio: number;
  /** 1-client insert baseline just before and just after the run (inserts/s). */
  readonly baselineBefore: number;
  readonly baselineAfter: number;
}

/**
 * Issue 20 item 19: one run of 10,000 no-op steps, executed; the time of each thousand steps, and
 * its last thousand against its first (goal: ≤ 1.2). Per-step work that grows with the run
 * (scanning every step to decide, to find changed rows, to build a context) shows as a ratio
 * above 1. Beside it, the 1-client insert baseline in windows just before and after the run (one
 * durable commit per step is the floor), and this process's CPU per thousand, which a loaded
 * machine disturbs far less than wall time.
 */
const longRun = async (
  ctx: BenchContext,
  registry: ReturnType<typeof createRegistry>,
  client: Awaited<ReturnType<BenchContext['client']>>,
): Promise<LongRun> => {
  const steps = Math.max(2_000, Math.floor(ctx.size(10_000, 2_000) / 1000) * 1000);
  const pipeline = noopPipeline('bench-s5-long', steps);
  registry.registerPipeline(pipeline);
  const table = await BaselineTable.create(client.db.url, `${ctx.prefix}_s5`);
  const baselineBefore = (await table.measure(1, ctx.opts.baselineSeconds)).tps;
  const wall: number[] = [];
  const cpu: number[] = [];
  let done = 0;
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const t0 = nowMs();
  const c0 = cpuNow();
  const r = await runPipeline(
    'bench-s5-long',
    {},
    {
      client,
      onProgress: () => {
        done++;
        if (done % 1000 === 0) {
          wall.push(nowMs());
          cpu.push(cpuNow());
        }
      },
    },
  );
  if (E.isLeft(r)) throw new Error(`S5 long run: ${formatError(r.left)}`);
  if (r.right.status !== 'success' || done !== steps) throw new Error(`S5 long run: ${r.right.status}, ${done} steps`);
  const baselineAfter = (await table.measure(1, ctx.opts.baselineSeconds)).tps;
  const perThousandS = wall.map((t, i) => (t - (i === 0 ? t0 : (wall[i - 1] as number))) / 1000);
  const cpuPerThousandS = cpu.map((c, i) => c - (i === 0 ? c0 : (cpu[i - 1] as number)));
  const firstS = perThousandS[0] as number;
  const lastS = perThousandS[perThousandS.length - 1] as number;
  const ratio = lastS / firstS;
  const cpuRatio = (cpuPerThousandS[cpuPerThousandS.length - 1] as number) / (cpuPerThousandS[0] as number);
  const show = (xs: readonly number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  // One durable commit per step: the baseline's time for a thousand inserts is the floor.
  const floorS = 1000 / ((baselineBefore + baselineAfter) / 2);
  ctx.log(
    `S5: run of ${steps.toLocaleString('en-US')} steps, s per thousand: ${show(perThousandS)}; ` +
      `last/first ×${ratio.toFixed(2)} (goal ≤ 1.2: ${ratio <= 1.2 ? 'met' : 'not met'})`,
  );
  ctx.log(`S5: node CPU s per thousand: ${show(cpuPerThousandS)}; last/first ×${cpuRatio.toFixed(2)}`);
  ctx.log(
    `S5: baseline 1 client ${baselineBefore.toFixed(0)} inserts/s before, ${baselineAfter.toFixed(0)} after ` +
      `(a thousand commits: ${floorS.toFixed(2)} s); first thousand ×${(firstS / floorS).toFixed(2)} of that, last ×${(lastS / floorS).toFixed(2)}`,
  );
  return { steps, perThousandS, cpuPerThousandS, firstS, lastS, ratio, cpuRatio, baselineBefore, baselineAfter };
};
