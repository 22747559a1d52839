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
import { forEachConcurrent, median, nowMs } from './stats';

const CONCURRENCY = 16;
const STEPS = 5;

/** S2: 2,000 runs x 5 no-op steps, 16 at a time. Steps/s, and the ratio to the 16-client baseline. */
export class S2 {
  private readonly samples: number[] = [];
  private roundTripsPerStep = 0;
  private readonly nodeCpu: number[] = [];
  private readonly serverCpu: number[] = [];

  private constructor(
    private readonly client: OrbitClient,
    private readonly layout: Layout,
    /** Runs per measurement (the peers run as many). */
    readonly runs: number,
  ) {}

  static readonly STEPS = STEPS;
  static readonly CONCURRENCY = CONCURRENCY;

  /**
   * `unpartitioned`: on the journal as it was before migration 014 (one table); `no-search-index`:
   * without migration 022's runs_by_metadata_value. For before/after figures in the same windows.
   */
  static async prepare(ctx: BenchContext, layout: Layout = 'partitioned'): Promise<S2> {
    const runs = ctx.size(2000, 160);
    const registry = createRegistry();
    registry.registerPipeline(noopPipeline('bench-s2', STEPS));
    // One connection per concurrent run, plus the heartbeat's: the pool must not be the bottleneck.
    const schema = layout === 'partitioned' ? 's2' : layout === 'unpartitioned' ? 's2_flat' : 's2_nosearch';
    const client = await ctx.client(schema, { registry, poolSize: CONCURRENCY + 4 });
    if (layout === 'unpartitioned') await unpartitionJournal(client.db.pool, client.db.schema);
    if (layout === 'no-search-index') await dropSearchIndex(client.db.pool, client.db.schema);
    trackBackends();
    await forEachConcurrent(CONCURRENCY, CONCURRENCY, async () => {
      await runPipeline('bench-s2', BENCH_METADATA, { client });
    });
    return new S2(client, layout, runs);
  }

  async measureOnce(): Promise<number> {
    const counter = countRoundTrips();
    let failures = 0;
    let firstError = '';
    const t0 = nowMs();
    const { cpu } = await measureCpu(() =>
      forEachConcurrent(this.runs, CONCURRENCY, async () => {
        const r = await runPipeline('bench-s2', BENCH_METADATA, { client: this.client });
        if (E.isLeft(r) || r.right.status !== 'success') {
          failures++;
          firstError ||= E.isLeft(r) ? formatError(r.left) : `run ended ${r.right.status}`;
        }
      }),
    );
    const ms = nowMs() - t0;
    counter.restore();
    const steps = this.runs * STEPS;
    this.nodeCpu.push(cpu.nodeMs / steps);
    if (cpu.serverMs !== null) this.serverCpu.push(cpu.serverMs / steps);
    if (failures > 0) throw new Error(`S2: ${failures} run(s) failed, first: ${firstError}`);
    this.roundTripsPerStep = counter.count() / (this.runs * STEPS);
    const sps = ((this.runs * STEPS) / ms) * 1000;
    this.samples.push(sps);
    return sps;
  }

  result(baselineSamples: readonly number[]): ScenarioResult {
    const ratios = this.samples.map((s, i) => s / (baselineSamples[i] ?? Number.NaN));
    const ratio = median(ratios);
    return {
      id: this.layout === 'partitioned' ? 'S2' : `S2-${this.layout}`,
      title: `${this.runs} runs x ${STEPS} steps, ${CONCURRENCY} at a time${LAYOUT_NOTE[this.layout]}`,
      figure: 'steps/s',
      value: median(this.samples),
      ratio,
      goal: 'ratio >= 0.8 (16-client baseline; issue 11)',
      met: ratio >= 0.8,
      details: {
        runs: this.runs,
        samples: this.samples,
        ratios,
        round_trips_per_step: this.roundTripsPerStep,
        node_cpu_ms_per_step: median(this.nodeCpu),
        server_cpu_ms_per_step: this.serverCpu.length > 0 ? median(this.serverCpu) : null,
      },
    };
  }
}
