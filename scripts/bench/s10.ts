import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import type { Pipeline } from '../../src/pipeline/types';
import { BaselineTable } from './baseline';
import type { BenchContext } from './context';
import { measureCpu } from './cpu';
import type { ScenarioResult } from './report';
import { forEachConcurrent, median, nowMs } from './stats';

/** Runs executed at the same time (as S2), each with up to WIDTH steps in flight. */
const CONCURRENCY = 16;
const WIDTH = 8;
const STEPS = WIDTH + 2;

/** S10's diamond of no-op steps: `fan` → `b1` … `b8` in parallel → `join`. */
const diamond = (): Pipeline => {
  const branches = Array.from({ length: WIDTH }, (_, i) => `b${i + 1}`);
  const noop = () => ({ success: true }) as const;
  return definePipeline({
    name: 'bench-s10',
    maxParallel: WIDTH,
    steps: [
      { name: 'fan', handler: noop },
      ...branches.map((name) => ({ name, dependsOn: ['fan'], handler: noop })),
      { name: 'join', dependsOn: branches, handler: noop },
    ],
  });
};

/**
 * S10, diamond: `runs` runs of 1 → 8 parallel → 1 no-op steps, 16 runs at a time; steps/s beside
 * the 16-client insert baseline, measured in interleaved windows as S2 is.
 */
export const runS10 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const runs = ctx.size(200, 40);
  const registry = createRegistry();
  registry.registerPipeline(diamond());
  const client = await ctx.client('s10', { registry, poolSize: CONCURRENCY + 4 });
  const table = await BaselineTable.create(client.db.url, `${ctx.prefix}_s10`);
  const runAll = async (count: number): Promise<void> => {
    let failures = 0;
    let firstError = '';
    await forEachConcurrent(count, CONCURRENCY, async () => {
      const r = await runPipeline('bench-s10', {}, { client });
      if (E.isLeft(r) || r.right.status !== 'success' || r.right.stepsExecuted !== STEPS) {
        failures++;
        firstError ||= E.isLeft(r) ? formatError(r.left) : `run ended ${r.right.status} after ${r.right.stepsExecuted} steps`;
      }
    });
    if (failures > 0) throw new Error(`S10: ${failures} run(s) failed, first: ${firstError}`);
  };
  await runAll(CONCURRENCY); // warm-up
  const samples: number[] = [];
  const baseline: number[] = [];
  const nodeCpu: number[] = [];
  const serverCpu: number[] = [];
  for (let i = 0; i < ctx.opts.repeat; i++) {
    const b = await table.measure(16, ctx.opts.baselineSeconds);
    baseline.push(b.tps);
    const t0 = nowMs();
    const { cpu } = await measureCpu(() => runAll(runs));
    const sps = ((runs * STEPS) / (nowMs() - t0)) * 1000;
    samples.push(sps);
    nodeCpu.push(cpu.nodeMs / (runs * STEPS));
    if (cpu.serverMs !== null) serverCpu.push(cpu.serverMs / (runs * STEPS));
    ctx.log(`S10: baseline 16 clients ${b.tps.toFixed(0)} inserts/s, diamond ${sps.toFixed(0)} steps/s`);
  }
  const ratios = samples.map((s, i) => s / (baseline[i] ?? Number.NaN));
  const ratio = median(ratios);
  return {
    id: 'S10',
    title: `${runs} runs of 1 -> ${WIDTH} parallel -> 1 steps, ${CONCURRENCY} runs at a time`,
    figure: 'steps/s',
    value: median(samples),
    ratio,
    goal: 'steps/s beside the 16-client baseline (issue 18; no target set)',
    met: true,
    details: {
      runs,
      steps_per_run: STEPS,
      samples,
      baseline_16: baseline,
      ratios,
      node_cpu_ms_per_step: median(nodeCpu),
      server_cpu_ms_per_step: serverCpu.length > 0 ? median(serverCpu) : null,
    },
  };
};
