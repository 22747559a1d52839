import { execFile, fork } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { appendBatcherFor } from '../../src/journal/appendBatcher';
import { createRegistry } from '../../src/pipeline/registry';
import { BaselineTable } from './baseline';
import type { BenchContext } from './context';
import { measureCpu } from './cpu';
import { PeerProcess } from './peers';
import { mapPipeline } from './pipelines';
import type { ScenarioResult } from './report';
import { median, nowMs } from './stats';

const run = promisify(execFile);

/** Items of the one map step running at the same time. */
const CONCURRENCY = 16;

/** graphile-worker's runner for S9 (an ES module, so a process of its own; not compiled: beside the sources). */
const GRAPHILE_DRAIN = path.resolve(__dirname, '..', '..', '..', 'scripts', 'bench', 'graphileDrain.mjs');

/** Starts graphile-worker at CONCURRENCY on a schema of its own; null (said once) when it cannot. */
const startGraphile = async (ctx: BenchContext, url: string): Promise<PeerProcess | null> => {
  const schema = `${ctx.prefix}_s9_graphile`;
  ctx.track(schema);
  const child = fork(GRAPHILE_DRAIN, [url, schema, String(CONCURRENCY)], {
    execArgv: ['--no-deprecation'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const proc = new PeerProcess(child);
  const ready = await proc.next();
  if (!ready.ok) {
    ctx.log(`S9: graphile-worker did not start: ${(ready.error ?? '').split('\n')[0] ?? ''}`);
    await proc.stop();
    return null;
  }
  return proc;
};

interface ChildReport {
  readonly items: number;
  readonly seconds: number;
  readonly events: number;
  readonly foldSeconds: number;
  readonly peakRss: number;
}

/**
 * S9, fan-out: one run whose map step has 10,000 no-op items at item concurrency 16; items/s
 * beside the 16-client insert baseline, in interleaved windows as S2 and S10 are. Then, in a
 * fresh process, a map of 100,000 items and a fold of its journal: peak RSS (goal < 200 MB).
 */
export const runS9 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const items = ctx.size(10_000, 2_000);
  const big = ctx.size(100_000, 20_000);
  const registry = createRegistry();
  registry.registerPipeline(mapPipeline('bench-s9', items, CONCURRENCY));
  const client = await ctx.client('s9', { registry });
  const table = await BaselineTable.create(client.db.url, `${ctx.prefix}_s9`);
  const once = async (): Promise<void> => {
    const r = await runPipeline('bench-s9', {}, { client });
    if (E.isLeft(r) || r.right.status !== 'success') throw new Error(`S9: ${E.isLeft(r) ? formatError(r.left) : r.right.status}`);
  };
  const samples: number[] = [];
  const baseline: number[] = [];
  const nodeCpu: number[] = [];
  const serverCpu: number[] = [];
  const commitsPerItem: number[] = [];
  // graphile-worker drains as many no-op jobs, added in bulk, in the same windows.
  const graphile = await startGraphile(ctx, client.db.url);
  const graphileJps: number[] = [];
  const graphileCpu: number[] = [];
  const drainGraphile = async (): Promise<void> => {
    if (graphile === null) return;
    const r = await graphile.ask({ cmd: 'drain', jobs: items });
    if (!r.ok || r.ms === undefined || r.jobs === undefined) throw new Error(`S9 graphile-worker: ${r.error ?? 'no reply'}`);
    graphileJps.push((r.jobs / r.ms) * 1000);
    graphileCpu.push((r.node_cpu_ms ?? Number.NaN) / r.jobs);
  };
  for (let i = 0; i < ctx.opts.repeat; i++) {
    const b = await table.measure(16, ctx.opts.baselineSeconds);
    baseline.push(b.tps);
    // Turns at going first after the baseline window, as S2 does with its peers.
    if (i % 2 === 1) await drainGraphile();
    const stats = appendBatcherFor(client.db).stats;
    const commits0 = stats.commits;
    const t0 = nowMs();
    const { cpu } = await measureCpu(once);
    const ips = (items / (nowMs() - t0)) * 1000;
    samples.push(ips);
    commitsPerItem.push((stats.commits - commits0) / items);
    nodeCpu.push(cpu.nodeMs / items);
    if (cpu.serverMs !== null) serverCpu.push(cpu.serverMs / items);
    if (i % 2 === 0) await drainGraphile();
    const g = graphileJps[graphileJps.length - 1];
    ctx.log(
      `S9: baseline 16 clients ${b.tps.toFixed(0)} inserts/s, map ${ips.toFixed(0)} items/s` +
        (g === undefined ? '' : `, graphile-worker ${g.toFixed(0)} jobs/s (Orbit ${(ips / g).toFixed(2)}x)`),
    );
  }
  await graphile?.stop();
  const { stdout } = await run(
    process.execPath,
    [path.join(__dirname, 's9child.js'), client.db.url, client.db.schema, String(big), String(CONCURRENCY)],
    { maxBuffer: 1 << 20, timeout: 900_000 },
  );
  const child = JSON.parse(stdout.trim().split('\n').pop() as string) as ChildReport;
  ctx.log(`S9: ${big.toLocaleString('en-US')} items in a fresh process: ${child.seconds.toFixed(1)} s, peak RSS ${child.peakRss.toFixed(0)} MB`);
  const ratios = samples.map((s, i) => s / (baseline[i] ?? Number.NaN));
  const vsGraphile = graphileJps.map((g, i) => (samples[i] ?? Number.NaN) / g);
  if (graphileJps.length > 0)
    ctx.log(
      `S9: Orbit ${median(samples).toFixed(0)} items/s, graphile-worker ${median(graphileJps).toFixed(0)} jobs/s: ${median(vsGraphile).toFixed(2)}x`,
    );
  return {
    id: 'S9',
    title: `one map step of ${items} no-op items, ${CONCURRENCY} at a time`,
    figure: 'items/s',
    value: median(samples),
    ratio: median(ratios),
    goal: `items/s beside the 16-client baseline and graphile-worker's jobs/s (${items} jobs added in bulk, concurrency ${CONCURRENCY}); peak RSS < 200 MB with ${big.toLocaleString('en-US')} items`,
    met: child.peakRss < 200,
    details: {
      items,
      samples,
      baseline_16: baseline,
      ratios,
      commits_per_item: median(commitsPerItem),
      graphile_worker_jobs_per_s: graphileJps.length > 0 ? median(graphileJps) : null,
      graphile_worker_samples: graphileJps,
      graphile_worker_ratio_to_baseline: graphileJps.length > 0 ? median(graphileJps.map((g, i) => g / (baseline[i] ?? Number.NaN))) : null,
      orbit_vs_graphile_worker: graphileJps.length > 0 ? median(vsGraphile) : null,
      graphile_worker_node_cpu_ms_per_job: graphileCpu.length > 0 ? median(graphileCpu) : null,
      node_cpu_ms_per_item: median(nodeCpu),
      server_cpu_ms_per_item: serverCpu.length > 0 ? median(serverCpu) : null,
      big_items: child.items,
      big_seconds: child.seconds,
      big_items_per_s: child.items / child.seconds,
      big_events: child.events,
      big_fold_seconds: child.foldSeconds,
      big_peak_rss_mb: child.peakRss,
    },
  };
};
