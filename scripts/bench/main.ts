import path from 'node:path';
import { createContext } from './context';
import { parseOptions } from './options';
import { BaselineTable, type BaselineWindow } from './baseline';
import { describeMachine, printMachine, printPeers, printResults, writeResults, type Baseline, type ScenarioResult } from './report';
import { S1 } from './s1';
import { S2 } from './s2';
import { Peers, type PeerResult } from './peers';
import { runS3 } from './s3';
import { runS4 } from './s4';
import { runS5 } from './s5';
import { runS9 } from './s9';
import { runS6 } from './s6';
import { runS7 } from './s7';
import { runS8 } from './s8';
import { runS10 } from './s10';
import { runS11 } from './s11';
import { runS12 } from './s12';
import { runUi } from './ui';
import { runArchive } from './archive';
import { median, nowMs } from './stats';
import { describeDatabase } from '../../src/server/resolveDatabase';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

const main = async (): Promise<number> => {
  const t0 = nowMs();
  const opts = parseOptions(process.argv.slice(2));
  const ctx = createContext(opts);
  const wants = (id: string) => opts.only.length === 0 || opts.only.includes(id);
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupted: dropping the bench schemas (Ctrl-C again to leave them)');
    void ctx.dispose().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: ScenarioResult[] = [];
  let baseline: Baseline | null = null;
  let peerResults: Record<string, PeerResult> | null = null;
  try {
    const first = await ctx.client();
    const pg = await ctx.raw();
    const machine = await describeMachine(pg, describeDatabase(first.database));
    await pg.end();
    printMachine(machine);
    ctx.log(`scale ${opts.scale}, ${opts.repeat} repetition(s), schemas ${ctx.prefix}*`);

    if (wants('S1') || wants('S2') || wants('BASELINE')) {
      const table = await BaselineTable.create(first.db.url, ctx.prefix);
      const s1 = wants('S1') ? await S1.prepare(ctx) : undefined;
      const s2 = wants('S2') ? await S2.prepare(ctx) : undefined;
      // The same scenarios on the journal as it was before partitioning (migration 014), in the
      // same windows: before/after figures from one run (docs/PERFORMANCE.md).
      const s1u = wants('S1') && opts.unpartitioned ? await S1.prepare(ctx, 'unpartitioned') : undefined;
      const s2u = wants('S2') && opts.unpartitioned ? await S2.prepare(ctx, 'unpartitioned') : undefined;
      // And without migration 022's metadata search index: what the index costs the append path.
      const s1n = wants('S1') && opts.noSearchIndex ? await S1.prepare(ctx, 'no-search-index') : undefined;
      const s2n = wants('S2') && opts.noSearchIndex ? await S2.prepare(ctx, 'no-search-index') : undefined;
      const peers = opts.peers ? await Peers.start(ctx, first.db.url) : null;
      const w1: BaselineWindow[] = [];
      const w16: BaselineWindow[] = [];
      try {
        // Orbit and the peers take turns at going first after a baseline window (the one nearest
        // it sees the machine most like the baseline did): repetition i starts with system i.
        const rotate = <T>(xs: T[], i: number): T[] => xs.map((_, k) => xs[(k + i) % xs.length] as T);
        const peerIds = Array.from({ length: peers?.count ?? 0 }, (_, k) => k);
        for (let i = 0; i < opts.repeat; i++) {
          const a = await table.measure(1, opts.baselineSeconds);
          w1.push(a);
          ctx.log(`baseline 1 client: ${a.tps.toFixed(0)} inserts/s`);
          if (s1) {
            const orbit = async () => ctx.log(`S1: ${(await s1.measureOnce()).toFixed(0)} steps/s`);
            const others = peers ? peerIds.map((k) => () => peers.s1(k, i, s1.steps)) : [];
            const flat = s1u ? [async () => ctx.log(`S1 (one-table journal): ${(await s1u.measureOnce()).toFixed(0)} steps/s`)] : [];
            const bare = s1n ? [async () => ctx.log(`S1 (no search index): ${(await s1n.measureOnce()).toFixed(0)} steps/s`)] : [];
            for (const run of rotate([orbit, ...flat, ...bare, ...others], i)) await run();
          }
          const b = await table.measure(16, opts.baselineSeconds);
          w16.push(b);
          ctx.log(`baseline 16 clients: ${b.tps.toFixed(0)} inserts/s`);
          if (s2) {
            const orbit = async () => ctx.log(`S2: ${(await s2.measureOnce()).toFixed(0)} steps/s`);
            const others = peers ? peerIds.map((k) => () => peers.s2(k, i, s2.runs, S2.STEPS, S2.CONCURRENCY)) : [];
            const flat = s2u ? [async () => ctx.log(`S2 (one-table journal): ${(await s2u.measureOnce()).toFixed(0)} steps/s`)] : [];
            const bare = s2n ? [async () => ctx.log(`S2 (no search index): ${(await s2n.measureOnce()).toFixed(0)} steps/s`)] : [];
            for (const run of rotate([orbit, ...flat, ...bare, ...others], i)) await run();
          }
        }
      } finally {
        await peers?.stop();
      }
      const b1 = w1.map((w) => w.tps);
      const b16 = w16.map((w) => w.tps);
      const cpuOf = (ws: BaselineWindow[]) => ({
        node_ms_per_insert: median(ws.map((w) => w.nodeCpuMsPerOp)),
        server_ms_per_insert: ws.every((w) => w.serverCpuMsPerOp !== null) ? median(ws.map((w) => w.serverCpuMsPerOp as number)) : null,
      });
      baseline = { insert_tps_1: median(b1), insert_tps_16: median(b16), samples_1: b1, samples_16: b16, cpu_1: cpuOf(w1), cpu_16: cpuOf(w16) };
      if (s1) results.push(s1.result(b1));
      if (s2) results.push(s2.result(b16));
      if (s1u) results.push(s1u.result(b1));
      if (s2u) results.push(s2u.result(b16));
      if (s1n) results.push(s1n.result(b1));
      if (s2n) results.push(s2n.result(b16));
      if (peers) peerResults = peers.results(b1, b16);
    }

    const standalone: Array<[string, () => Promise<ScenarioResult | ScenarioResult[]>]> = [
      ['S3', () => runS3(ctx)],
      ['S4', () => runS4(ctx)],
      ['S5', () => runS5(ctx)],
      ['S6', () => runS6(ctx)],
      ['S7', () => runS7(ctx)],
      ['S8', () => runS8(ctx)],
      ['S9', () => runS9(ctx)],
      ['S10', () => runS10(ctx)],
      ['S11', () => runS11(ctx)],
      ['S12', () => runS12(ctx)],
      ['UI', () => runUi(ctx)],
      ['A1', () => runArchive(ctx)],
    ];
    for (const [id, run] of standalone) {
      if (!wants(id)) continue;
      const t = nowMs();
      ctx.log(`${id}: start`);
      results.push(...[await run()].flat());
      ctx.log(`${id}: done in ${((nowMs() - t) / 1000).toFixed(1)} s`);
    }

    const totalSeconds = (nowMs() - t0) / 1000;
    printResults(baseline, results, opts.scale);
    if (peerResults) printPeers(results, peerResults);
    const file = opts.out ?? path.join(REPO_ROOT, 'bench', 'results.json');
    await writeResults(file, {
      machine,
      baseline,
      scenarios: results,
      peers: peerResults,
      options: { scale: opts.scale, quick: opts.quick, repeat: opts.repeat, baseline_seconds: opts.baselineSeconds, peers: opts.peers },
      total_seconds: totalSeconds,
      finished_at: new Date().toISOString(),
    });
    console.log('');
    console.log(`Wrote ${path.relative(process.cwd(), file) || file} in ${totalSeconds.toFixed(1)} s`);
    const failed = results.filter((r) => r.fail !== undefined);
    for (const r of failed) console.log(`FAIL ${r.id}: ${r.fail}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await ctx.dispose();
  }
};

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
