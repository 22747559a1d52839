import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import { appendEvents } from '../../src/journal/appendEvents';
import { createRegistry } from '../../src/pipeline/registry';
import { detectInterruptedRuns } from '../../src/api/detectInterruptedRuns';
import { RunRecoveryOrchestrator } from '../../src/api/runRecoveryOrchestrator';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import type { BenchContext } from './context';
import { countRoundTrips, noopPipeline, stepNames } from './pipelines';
import type { ScenarioResult } from './report';
import { forEachConcurrent, nowMs, sleep } from './stats';

const STEPS = 5;
const THRESHOLD_MS = 1000;
/** A worker that crashed: it holds the runs but has no heartbeat row. */
const DEAD_WORKER = 'bench-crashed-host:4242:dead01';

/**
 * Journals `count` runs the way a crashed worker leaves them: created, claimed by DEAD_WORKER
 * (no heartbeat row), steps s1 and s2 succeeded, 3 steps left; every other run also has s3
 * started with no outcome (in flight when the worker died). Written with the library's own
 * appendEvents (one append per run), so journal and projections are exactly what the code writes.
 */
const seedInterrupted = async (client: OrbitClient, pipeline: { name: string; definitionHash: string }, tag: string, count: number) => {
  const names = stepNames(STEPS);
  await forEachConcurrent(count, 16, async (i) => {
    const events: RunEvent[] = [
      { type: 'run.created', payload: { pipelineId: pipeline.name, steps: names, definitionHash: pipeline.definitionHash, metadata: { i }, triggeredBy: 'bench' } },
      { type: 'run.claimed', payload: { worker: DEAD_WORKER } },
    ];
    for (const s of names.slice(0, 2)) {
      events.push({ type: 'step.started', stepName: s, attempt: 1, payload: {} });
      events.push({ type: 'step.succeeded', stepName: s, attempt: 1, payload: { result: { from: s } } });
    }
    if (i % 2 === 1) events.push({ type: 'step.started', stepName: 's3', attempt: 1, payload: {} });
    const r = await appendEvents(client.db, `s4-${tag}-${String(i).padStart(6, '0')}`, 0, events, DEAD_WORKER);
    if (E.isLeft(r)) throw new Error(`S4 seed: ${formatError(r.left)}`);
  });
};

const recoverAll = async (ctx: BenchContext, client: OrbitClient, tag: string, count: number, concurrency: number) => {
  const pipeline = client.registry.getPipeline('bench-s4');
  if (E.isLeft(pipeline)) throw new Error('S4: pipeline not registered');
  await seedInterrupted(client, pipeline.right, tag, count);
  await sleep(THRESHOLD_MS + 200);
  const detected = await detectInterruptedRuns({ client, limit: count + 10 });
  if (E.isLeft(detected)) throw new Error(`S4 detect: ${formatError(detected.left)}`);
  if (detected.right.length !== count) throw new Error(`S4: expected ${count} interrupted runs, detected ${detected.right.length}`);
  const counter = countRoundTrips();
  const t0 = nowMs();
  const summary = await new RunRecoveryOrchestrator({ client, concurrency, limit: count + 10 }).recoverInterruptedRuns();
  const ms = nowMs() - t0;
  counter.restore();
  if (E.isLeft(summary)) throw new Error(`S4 recover: ${formatError(summary.left)}`);
  const s = summary.right;
  if (s.recovered !== count) {
    const bad = s.results.find((r) => r.outcome !== 'recovered');
    throw new Error(`S4: recovered ${s.recovered}/${count}; first problem: ${bad ? JSON.stringify(bad).slice(0, 300) : '?'}`);
  }
  const perSecond = (s.recovered / ms) * 1000;
  ctx.log(`S4: ${count} runs recovered at concurrency ${concurrency} in ${(ms / 1000).toFixed(2)} s: ${perSecond.toFixed(0)} runs/s, ${(counter.count() / count).toFixed(1)} round trips per run`);
  return { perSecond, ms, roundTripsPerRun: counter.count() / count };
};

/**
 * S4: `recover --auto-resume` of 1,000 interrupted runs with 3 steps left each, through
 * RunRecoveryOrchestrator (what the CLI calls). Measured at --recover-concurrency (default 16)
 * and at the CLI's default concurrency, 4.
 */
export const runS4 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const count = ctx.size(1000, 100);
  const concurrency = ctx.opts.recoverConcurrency;
  const registry = createRegistry();
  registry.registerPipeline(noopPipeline('bench-s4', STEPS));
  const client = await ctx.client('s4', { registry, thresholdMs: THRESHOLD_MS, poolSize: Math.max(10, concurrency + 4) });
  const main = await recoverAll(ctx, client, 'a', count, concurrency);
  const cliDefault = concurrency === 4 ? main : await recoverAll(ctx, client, 'b', count, 4);
  return {
    id: 'S4',
    title: `recover --auto-resume, ${count} runs x 3 steps left`,
    figure: `runs/s (concurrency ${concurrency})`,
    value: main.perSecond,
    ratio: null,
    goal: '>= 100 runs/s',
    met: main.perSecond >= 100,
    details: {
      runs: count,
      concurrency,
      seconds: main.ms / 1000,
      round_trips_per_run: main.roundTripsPerRun,
      runs_per_s_at_concurrency_4: cliDefault.perSecond,
    },
  };
};
