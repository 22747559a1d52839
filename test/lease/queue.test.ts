/**
 * Queued runs: two `orbit worker` processes, 200 runs queued through the library; each run is
 * executed exactly once, both workers take part. `orbit run --queue --wait` exits with the run's status.
 */
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

const PIPELINES = path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js');
const P = ['--pipelines', PIPELINES];

describe('queued runs', () => {
  let h: E2eHarness;
  let client: OrbitClient;

  beforeAll(async () => {
    h = await createE2eHarness('lease_queue');
    const registry = createRegistry();
    // The fixture module registers into the package's registry; take its pipelines into ours.
    for (const p of require(PIPELINES) as Parameters<typeof registry.registerPipeline>[0][]) registry.registerPipeline(p);
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
  });
  afterAll(async () => {
    await client.close();
    await h.dispose();
  });

  it('two workers, 200 queued runs: each runs exactly once, both take part', async () => {
    const workers = [0, 1].map(() => h.start([...P, 'worker', '--concurrency', '8'], { pipelines: false, timeoutMs: 120_000 }));
    for (const w of workers) await h.waitFor('a worker to listen', async () => w.stdout.includes('listening on'), 15_000);

    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const q = await enqueueRun('lease-pipeline', { i }, { client });
      if (E.isLeft(q)) throw new Error(formatError(q.left));
      ids.push(q.right.runId);
    }
    const done = async () =>
      (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE status = 'success'`)).rows[0]?.n ===
      200;
    await h.waitFor('the 200 runs to succeed', done, 90_000);

    const claims = await h.pool.query<{ run_id: string; writer: string; latency_ms: number }>(
      `SELECT c.run_id, c.writer, extract(epoch FROM c.occurred_at - q.occurred_at) * 1000 AS latency_ms
         FROM ${h.qs}.run_events c JOIN ${h.qs}.run_events q ON q.run_id = c.run_id AND q.type = 'run.created'
        WHERE c.type = 'run.claimed'`,
    );
    expect(claims.rows).toHaveLength(200);
    expect(new Set(claims.rows.map((r) => r.run_id))).toEqual(new Set(ids));
    const perWorker = new Map<string, number>();
    for (const r of claims.rows) perWorker.set(r.writer, (perWorker.get(r.writer) ?? 0) + 1);
    expect(perWorker.size).toBe(2);
    const started = await h.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${h.qs}.run_events WHERE type = 'step.started'`,
    );
    expect(started.rows[0]?.n).toBe(600); // 3 steps × 200 runs, none twice
    const latencies = claims.rows.map((r) => Number(r.latency_ms)).sort((a, b) => a - b);
    process.stdout.write(
      `[lease] 200 queued runs: per worker ${[...perWorker.values()].join(' / ')}; enqueue-to-claim median ${latencies[100]?.toFixed(1)} ms, p90 ${latencies[180]?.toFixed(1)} ms\n`,
    );
    for (const w of workers) w.kill('SIGINT');
    for (const w of workers) expectExit(await w.done, 0);
  }, 120_000);

  it('an idle worker claims each queued run on its NOTIFY (it has nothing else to wake it)', async () => {
    const worker = h.start([...P, 'worker'], { pipelines: false, timeoutMs: 60_000 });
    await h.waitFor('the worker to listen', async () => worker.stdout.includes('listening on'), 15_000);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const q = await enqueueRun('lease-pipeline', { i }, { client });
      if (E.isLeft(q)) throw new Error(formatError(q.left));
      ids.push(q.right.runId);
      // The worker is idle again (its run done) before the next NOTIFY.
      const runId = q.right.runId;
      await h.waitFor(`queued run ${runId} to succeed`, async () => (await h.run(runId))?.status === 'success', 10_000);
    }
    const latency = await h.pool.query<{ ms: number }>(
      `SELECT extract(epoch FROM c.occurred_at - q.occurred_at) * 1000 AS ms
         FROM ${h.qs}.run_events c JOIN ${h.qs}.run_events q ON q.run_id = c.run_id AND q.type = 'run.created'
        WHERE c.type = 'run.claimed' AND c.run_id = ANY ($1) ORDER BY 1`,
      [ids],
    );
    // All 20 claimed by an idle worker with no sweep interval and no deadline to wake at: the
    // NOTIFY was its only wake-up. How fast is the machine's business (printed; bench S8 measures it).
    expect(latency.rows).toHaveLength(20);
    const median = Number(latency.rows[10]?.ms);
    process.stdout.write(`[lease] idle worker: enqueue-to-claim median ${median.toFixed(1)} ms over 20 runs\n`);
    expect(worker.stdout).not.toMatch(/ Sweep: /);
    worker.kill('SIGINT');
    expectExit(await worker.done, 0);
  }, 60_000);

  it('orbit run --queue --wait exits with the run status once a worker has executed it', async () => {
    const worker = h.start([...P, 'worker'], { pipelines: false, timeoutMs: 60_000 });
    await h.waitFor('the worker to listen', async () => worker.stdout.includes('listening on'), 15_000);
    const r = await h.cli([...P, 'run', 'lease-pipeline', '--queue', '--wait'], { pipelines: false });
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(/^Queued run (\S+) \(lease-pipeline\); waiting for it to end$/);
    expect(r.stdout).toMatch(/✓ Run \S+ succeeded/);
    worker.kill('SIGINT');
    expectExit(await worker.done, 0);
  }, 60_000);
});
