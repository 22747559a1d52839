import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { loadRunState } from '../../src/journal/loadRunState';
import { createRegistry } from '../../src/pipeline/registry';
import { diffRun } from '../../src/projections/checkProjections';
import { reconstructStepContext } from '../../src/api/reconstructStepContext';
import { runPipeline } from '../../src/executor/runPipeline';
import { buildStepContext } from '../../src/executor/stepContext';
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
    },
  };
};

/**
 * Issue 20 item 19: one run of 10,000 no-op steps, executed; the time of its first thousand
 * steps against its last thousand. Per-step work that grows with the run (scanning every step to
 * decide, to find changed rows, to build a context) shows as a ratio above 1.
 */
const longRun = async (
  ctx: BenchContext,
  registry: ReturnType<typeof createRegistry>,
  client: Awaited<ReturnType<BenchContext['client']>>,
): Promise<{ steps: number; firstS: number; lastS: number; ratio: number }> => {
  const steps = Math.max(2_000, ctx.size(10_000, 2_000));
  const pipeline = noopPipeline('bench-s5-long', steps);
  registry.registerPipeline(pipeline);
  const done: number[] = [];
  const t0 = nowMs();
  const r = await runPipeline('bench-s5-long', {}, { client, onProgress: () => done.push(nowMs()) });
  if (E.isLeft(r)) throw new Error(`S5 long run: ${formatError(r.left)}`);
  if (r.right.status !== 'success' || done.length !== steps) throw new Error(`S5 long run: ${r.right.status}, ${done.length} steps`);
  const at = (i: number) => (i < 0 ? t0 : (done[i] as number));
  const firstS = (at(999) - at(-1)) / 1000;
  const lastS = (at(steps - 1) - at(steps - 1001)) / 1000;
  const ratio = lastS / firstS;
  ctx.log(`S5: run of ${steps.toLocaleString('en-US')} steps: first thousand ${firstS.toFixed(2)} s, last ${lastS.toFixed(2)} s (×${ratio.toFixed(2)})`);
  return { steps, firstS, lastS, ratio };
};
