import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import type { BenchContext } from './context';
import { countRoundTrips, stepNames } from './pipelines';
import type { ScenarioResult } from './report';
import { median, nowMs, percentile } from './stats';

const STEPS = 10;

/**
 * S7: what the executor adds to each step: a 10-step pipeline whose handlers record their own
 * time (start and end); overhead per step = (run latency - time inside handlers) / 10, over many
 * sequential runs. Also the gaps between one handler's end and the next one's start (one append
 * each: the step's outcome and the next step's start).
 */
export const runS7 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const runs = ctx.size(300, 40);
  let inHandlers = 0;
  let spans: Array<[number, number]> = [];
  const registry = createRegistry();
  registry.registerPipeline(
    definePipeline({
      name: 'bench-s7',
      steps: stepNames(STEPS).map((name) => ({
        name,
        handler: async () => {
          const t0 = nowMs();
          await new Promise<void>((r) => setImmediate(r));
          const t1 = nowMs();
          inHandlers += t1 - t0;
          spans.push([t0, t1]);
          return { success: true, data: { name } };
        },
      })),
    }),
  );
  const client = await ctx.client('s7', { registry });
  const once = async () => {
    inHandlers = 0;
    spans = [];
    const t0 = nowMs();
    const r = await runPipeline('bench-s7', {}, { client });
    const latency = nowMs() - t0;
    if (E.isLeft(r) || r.right.status !== 'success') throw new Error(`S7 run failed: ${E.isLeft(r) ? formatError(r.left) : r.right.status}`);
    const gaps = spans.slice(1).map(([start], i) => start - (spans[i] as [number, number])[1]);
    return { overheadPerStep: (latency - inHandlers) / STEPS, latency, gaps, first: (spans[0] as [number, number])[0] - t0 };
  };
  for (let i = 0; i < 5; i++) await once();
  const counter = countRoundTrips();
  const perStep: number[] = [];
  const gaps: number[] = [];
  const firsts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once();
    perStep.push(r.overheadPerStep);
    gaps.push(...r.gaps);
    firsts.push(r.first);
  }
  counter.restore();
  const med = median(perStep);
  const p99 = percentile(perStep, 99);
  ctx.log(`S7: overhead per step median ${med.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms over ${runs} runs`);
  return {
    id: 'S7',
    title: `per-step overhead, ${STEPS}-step pipeline, ${runs} runs`,
    figure: 'ms per step (median)',
    value: med,
    ratio: null,
    goal: 'median < 0.5 ms (issue 11)',
    met: med < 0.5,
    details: {
      runs,
      p99_ms: p99,
      between_steps_median_ms: median(gaps),
      between_steps_p99_ms: percentile(gaps, 99),
      before_first_step_median_ms: median(firsts),
      round_trips_per_run: counter.count() / runs,
    },
  };
};
