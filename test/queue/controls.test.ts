/**
 * Queue controls (issue 19 item 5): a concurrency limit per pipeline that holds across worker
 * processes, priorities that order the queue, and a deduplication key that returns the first run.
 */
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { startWorker } from '../../src/api/startWorker';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

const QUEUE_PIPELINES = ['--pipelines', path.join(REPO_ROOT, 'test', 'fixtures', 'queuePipelines.js')];
const order: string[] = [];
const ordered = definePipeline({
  name: 'ordered',
  steps: [
    {
      name: 'only',
      handler: async (ctx) => {
        order.push(String((ctx.metadata as { label?: unknown }).label));
        return { success: true };
      },
    },
  ],
});
// The fixture's pipelines (same names and steps, so the same definition hashes), to queue from here.
const nap = { name: 'nap', handler: async () => ({ success: true }) as const };
const limitedHere = definePipeline({ name: 'limited', concurrency: 2, steps: [nap] });
const freeHere = definePipeline({ name: 'free', steps: [nap] });
const quick = definePipeline({ name: 'quick', steps: [{ name: 'only', handler: async () => ({ success: true }) }] });

/** The most runs whose [claimed, ended] intervals overlap at one moment (journal times). */
const maxOverlap = (intervals: readonly { start: number; end: number }[]): number => {
  const points = intervals.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  // An end and a start at the same instant do not overlap.
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const p of points) {
    now += p.d;
    most = Math.max(most, now);
  }
  return most;
};

describe('queue controls', () => {
  let h: E2eHarness;
  let client: OrbitClient;

  beforeAll(async () => {
    h = await createE2eHarness('q_controls');
    const registry = createRegistry();
    registry.registerPipeline(ordered);
    registry.registerPipeline(quick);
    registry.registerPipeline(limitedHere);
    registry.registerPipeline(freeHere);
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
  });
  afterAll(async () => {
    await client.close();
    await h.dispose();
  });

  it('concurrency 2 for a pipeline: three `orbit worker --concurrency 8` processes never execute more than 2 of its runs at once', async () => {
    const queue = async (name: string, n: number) => {
      const runIds: string[] = [];
      for (let i = 0; i < n; i += 1) {
        const r = await enqueueRun(name, {}, { client });
        if (E.isLeft(r)) throw new Error(formatError(r.left));
        runIds.push(r.right.runId);
      }
      return runIds;
    };
    const ids = await queue('limited', 12);
    const free = await queue('free', 6);
    const t0 = Date.now();
    const workers = [0, 1, 2].map(() =>
      h.start([...QUEUE_PIPELINES, 'worker', '--concurrency', '8'], { pipelines: false, timeoutMs: 90_000 }),
    );
    try {
      await h.waitFor(
        'every run to succeed',
        async () =>
          (
            await h.pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE status = 'success' AND id = ANY ($1)`,
              [[...ids, ...free]],
            )
          ).rows[0]?.n ===
          ids.length + free.length,
        60_000,
      );
    } finally {
      for (const w of workers) w.kill('SIGINT');
      for (const w of workers) await w.done;
    }
    const tookMs = Date.now() - t0;
    const spans = async (runIds: string[]) =>
      (
        await h.pool.query<{ start: Date; end: Date }>(
          `SELECT min(occurred_at) FILTER (WHERE type = 'run.claimed') AS start,
                  max(occurred_at) FILTER (WHERE type = 'run.succeeded') AS end
             FROM ${h.qs}.run_events WHERE run_id = ANY ($1) GROUP BY run_id`,
          [runIds],
        )
      ).rows.map((r) => ({ start: r.start.getTime(), end: r.end.getTime() }));
    const limited = await spans(ids);
    const unlimited = await spans(free);
    const claimers = await h.pool.query<{ n: number }>(
      `SELECT count(DISTINCT writer)::int AS n FROM ${h.qs}.run_events WHERE type = 'run.claimed' AND run_id = ANY ($1)`,
      [ids],
    );
    process.stdout.write(
      `limited (concurrency 2): at most ${maxOverlap(limited)} at once over ${limited.length} runs, claimed by ${claimers.rows[0]?.n} workers; free: at most ${maxOverlap(unlimited)} at once; ${tookMs} ms from the workers' start to the last run's end\n`,
    );
    expect(limited).toHaveLength(12);
    expect(maxOverlap(limited)).toBeLessThanOrEqual(2);
    expect(maxOverlap(limited)).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('priorities order the queue: highest first, then the oldest', async () => {
    order.length = 0;
    const labels: [string, number | undefined][] = [
      ['a0', undefined],
      ['b5', 5],
      ['c-1', -1],
      ['d10', 10],
      ['e5', 5],
      ['f0', 0],
    ];
    for (const [label, priority] of labels) {
      const r = await enqueueRun('ordered', { label }, { client, ...(priority === undefined ? {} : { priority }) });
      if (E.isLeft(r)) throw new Error(formatError(r.left));
    }
    const w = await startWorker({ client, concurrency: 1 });
    if (E.isLeft(w)) throw new Error(formatError(w.left));
    try {
      await h.waitFor('the six runs', async () => order.length === 6, 20_000);
    } finally {
      await w.right.stop();
    }
    expect(order).toEqual(['d10', 'b5', 'e5', 'a0', 'f0', 'c-1']);
    const bad = await enqueueRun('ordered', {}, { client, priority: 1.5 });
    expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidInput');
  }, 60_000);

  it('a dedup key returns the unfinished run of the same key, also to concurrent enqueues; once it ended, a new run', async () => {
    const first = await enqueueRun('quick', {}, { client, dedupKey: 'sync-42' });
    if (E.isLeft(first)) throw new Error(formatError(first.left));
    expect(first.right.deduplicated).toBe(false);
    const again = await Promise.all([1, 2, 3, 4].map(() => enqueueRun('quick', {}, { client, dedupKey: 'sync-42' })));
    expect(again.map((r) => E.isRight(r) && r.right)).toEqual(
      [1, 2, 3, 4].map(() => ({ runId: first.right.runId, deduplicated: true })),
    );
    // Another pipeline's key of the same text is another key.
    const other = await enqueueRun('ordered', { label: 'x' }, { client, dedupKey: 'sync-42' });
    expect(E.isRight(other) && other.right.deduplicated).toBe(false);
    // The CLI says so in one line and exits 0.
    const cli = await h.cli(['run', 'data-pipeline', '--queue', '--dedup-key', 'k1', '--json']);
    expectExit(cli, 0);
    const cliAgain = await h.cli(['run', 'data-pipeline', '--queue', '--dedup-key', 'k1']);
    expectExit(cliAgain, 0);
    const cliFirst = JSON.parse(cli.stdout) as { runId: string; deduplicated: boolean };
    expect(cliFirst.deduplicated).toBe(false);
    expect(cliAgain.stdout).toContain(`Not queued: run ${cliFirst.runId} (data-pipeline) has dedup key "k1" and has not ended`);
    const runs = await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE pipeline_id = 'quick'`);
    expect(runs.rows[0]?.n).toBe(1);
    // Once the run has ended, the key names the next run.
    const w = await startWorker({ client, concurrency: 2 });
    if (E.isLeft(w)) throw new Error(formatError(w.left));
    try {
      await h.waitFor(
        'the first run to end',
        async () =>
          (await h.pool.query(`SELECT 1 FROM ${h.qs}.runs WHERE id = $1 AND status = 'success'`, [first.right.runId]))
            .rowCount === 1,
        20_000,
      );
    } finally {
      await w.right.stop();
    }
    const next = await enqueueRun('quick', {}, { client, dedupKey: 'sync-42' });
    expect(E.isRight(next) && next.right.deduplicated).toBe(false);
    expect(E.isRight(next) && next.right.runId).not.toBe(first.right.runId);
  }, 60_000);

  it('bad --priority, --dedup-key or --pipeline-concurrency, or either without --queue: one line, exit 2', async () => {
    for (const args of [
      ['run', 'data-pipeline', '--queue', '--priority', 'high'],
      ['run', 'data-pipeline', '--queue', '--priority', '2000000'],
      ['run', 'data-pipeline', '--priority', '1'],
      ['run', 'data-pipeline', '--dedup-key', 'k'],
      ['worker', '--pipeline-concurrency', 'data-pipeline'],
      ['worker', '--pipeline-concurrency', 'data-pipeline=0'],
    ]) {
      const bad = await h.cli(args);
      expectExit(bad, 2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 60_000);

  it('a --pipeline-concurrency limit for a pipeline the worker does not have is refused in one line, before it starts', async () => {
    // A typo ("data-pipline") would otherwise limit nothing, silently.
    const count = async () =>
      (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.worker_registry`)).rows[0]?.n;
    const before = await count();
    const bad = await h.cli(['worker', '--pipeline-concurrency', 'data-pipline=2']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /--pipeline-concurrency.*no pipeline "data-pipline" is registered here \(registered: .*data-pipeline/,
      ),
    ]);
    expect(bad.stdout).not.toContain('listening on');
    expect(await count()).toBe(before);
  }, 60_000);
});
