import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { createRegistry } from '../../src/pipeline/registry';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import type { BenchContext } from './context';
import { unpartitionJournal } from './unpartitioned';
import { BENCH_METADATA, countRoundTrips, dropSearchIndex, LAYOUT_NOTE, noopPipeline, type Layout } from './pipelines';
import type { ScenarioResult } from './report';
import { measureCpu, trackBackends } from './cpu';
import { median, nowMs } from './stats';

/** S1: one run of 500 no-op steps, sequential. Steps/s, and the ratio to the 1-client baseline. */
export class S1 {
  private readonly samples: number[] = [];
  private roundTripsPerStep = 0;
  private readonly nodeCpu: number[] = [];
  private readonly serverCpu: number[] = [];

  private constructor(
    private readonly client: OrbitClient,
    private readonly layout: Layout,
    /** Steps of the measured run (the peers run as many). */
    readonly steps: number,
  ) {}

  /**
   * `unpartitioned`: on the journal as it was before migration 014 (one table); `no-search-index`:
   * without migration 022's runs_by_metadata_value. For before/after figures in the same windows.
   */
  static async prepare(ctx: BenchContext, layout: Layout = 'partitioned'): Promise<S1> {
    const steps = ctx.size(500, 100);
    const registry = createRegistry();
    registry.registerPipeline(noopPipeline('bench-s1', steps));
    registry.registerPipeline(noopPipeline('bench-warmup', 10));
    const schema = layout === 'partitioned' ? 's1' : layout === 'unpartitioned' ? 's1_flat' : 's1_nosearch';
    const client = await ctx.client(schema, { registry });
    if (layout === 'unpartitioned') await unpartitionJournal(client.db.pool, client.db.schema);
    if (layout === 'no-search-index') await dropSearchIndex(client.db.pool, client.db.schema);
    // Warm-up: LISTEN connection, heartbeat row, prepared statements, JIT of the fold.
    trackBackends();
    await runPipeline('bench-warmup', BENCH_METADATA, { client });
    return new S1(client, layout, steps);
  }

  /** One run; returns steps per second. */
  async measureOnce(): Promise<number> {
    const counter = countRoundTrips();
    const t0 = nowMs();
    const { value: r, cpu } = await measureCpu(() => runPipeline('bench-s1', BENCH_METADATA, { client: this.client }));
    const ms = nowMs() - t0;
    counter.restore();
    this.nodeCpu.push(cpu.nodeMs / this.steps);
    if (cpu.serverMs !== null) this.serverCpu.push(cpu.serverMs / this.steps);
    if (E.isLeft(r)) throw new Error(`S1 run failed: ${formatError(r.left)}`);
    if (r.right.status !== 'success') throw new Error(`S1 run ended ${r.right.status}`);
    this.roundTripsPerStep = counter.count() / this.steps;
    const sps = (this.steps / ms) * 1000;
    this.samples.push(sps);
    return sps;
  }

  result(baselineSamples: readonly number[]): ScenarioResult {
    const ratios = this.samples.map((s, i) => s / (baselineSamples[i] ?? Number.NaN));
    const ratio = median(ratios);
    return {
      id: this.layout === 'partitioned' ? 'S1' : `S1-${this.layout}`,
      title: `1 run x ${this.steps} steps, sequential${LAYOUT_NOTE[this.layout]}`,
      figure: 'steps/s',
      value: median(this.samples),
      ratio,
      goal: 'ratio >= 0.6 (1-client baseline; issue 11)',
      met: ratio >= 0.6,
      details: {
        steps: this.steps,
        samples: this.samples,
        ratios,
        ms_per_step: 1000 / median(this.samples),
        round_trips_per_step: this.roundTripsPerStep,
        node_cpu_ms_per_step: median(this.nodeCpu),
        server_cpu_ms_per_step: this.serverCpu.length > 0 ? median(this.serverCpu) : null,
      },
    };
  }
}
