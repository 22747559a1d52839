/**
 * `orbit worker --metrics-port`: a real worker process serves Prometheus metrics on 127.0.0.1.
 * Queued runs and a released run move the counters, the queue depth is read from the database
 * when scraped, claim latency is measured from the journal's timestamps, and lease expiries are
 * counted on both sides: the worker that lost its lease, and the worker that took its run over.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type CliProcess, type E2eHarness } from '../support/cli';
import { Outage, viaProxy } from './outage';

const PIPELINES = path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js');
const P = ['--pipelines', PIPELINES];

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('orbit worker --metrics-port', () => {
  let h: E2eHarness;
  let dir: string;

  beforeAll(async () => {
    h = await createE2eHarness('lease_metrics');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-metrics-'));
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The worker's metrics URL, once it printed it and listens. */
  const metricsUrl = async (worker: CliProcess): Promise<string> => {
    await h.waitFor('the worker to listen', async () => worker.stdout.includes('listening on'), 15_000);
    const url = /Prometheus metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(worker.stdout)?.[1];
    expect(url).toBeDefined();
    return url as string;
  };
  const scrape = async (url: string): Promise<string> => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };
  const queue = async (metadata: unknown = {}): Promise<string> => {
    const q = await h.cli([...P, 'run', 'lease-pipeline', '--queue', '--metadata', JSON.stringify(metadata)], {
      pipelines: false,
    });
    expectExit(q, 0);
    return /Queued run (\S+) /.exec(q.stdout)?.[1] as string;
  };
  const status = async (runId: string) => (await h.run(runId))?.status;

  it('counts queued runs, reads the queue depth on scrape, and measures claim latency (queued and released runs)', async () => {
    const worker = h.start([...P, 'worker', '--concurrency', '1', '--metrics-port', '0'], {
      pipelines: false,
      timeoutMs: 90_000,
    });
    const url = await metricsUrl(worker);

    const before = await scrape(url);
    expect(sample(before, 'orbit_worker_runs_started_total{source="queue"}')).toBe(0);
    expect(sample(before, 'orbit_worker_queued_runs_ended_total{status="success"}')).toBe(0);
    expect(before).toContain('# TYPE orbit_worker_steps_total counter');
    expect(sample(before, 'orbit_worker_queue_depth')).toBe(0);
    expect(before).toContain('# TYPE orbit_worker_claim_latency_seconds histogram');
    expect(sample(before, 'orbit_worker_claim_latency_seconds_count{source="queue"}')).toBe(0);
    expect(sample(before, 'orbit_worker_lease_expiries_total{event="lost"}')).toBe(0);
    expect(sample(before, 'orbit_worker_lease_expiries_total{event="taken_over"}')).toBe(0);

    // One slot, taken by a run whose `long` step holds until the test lets it go: the two runs
    // queued meanwhile wait, however long queueing them takes on a loaded machine.
    const release = path.join(dir, 'release-first');
    const first = await queue({ holdUntil: { long: release } });
    await h.waitFor(
      'the first run to reach its long step',
      async () => ofType(await h.events(first), 'step.started', 'long').length > 0,
      15_000,
    );
    const waiting = await Promise.all([queue(), queue()]);
    const busy = await scrape(url);
    expect(sample(busy, 'orbit_worker_queue_depth')).toBe(2);
    expect(sample(busy, 'orbit_worker_runs_started_total{source="queue"}')).toBe(1);
    writeFileSync(release, '');

    let after = '';
    await h.waitFor(
      'the worker to end and measure the three runs',
      async () => {
        after = await scrape(url);
        return (
          sample(after, 'orbit_worker_queued_runs_ended_total{status="success"}') === 3 &&
          sample(after, 'orbit_worker_claim_latency_seconds_count{source="queue"}') === 3
        );
      },
      30_000,
    );
    for (const id of [first, ...waiting]) expect(await status(id)).toBe('success');
    expect(sample(after, 'orbit_worker_queue_depth')).toBe(0);
    expect(sample(after, 'orbit_worker_runs_started_total{source="queue"}')).toBe(3);
    expect(sample(after, 'orbit_worker_runs_started_total{source="recovery"}')).toBe(0);
    expect(sample(after, 'orbit_worker_queued_runs_ended_total{status="failed"}')).toBe(0);
    expect(sample(after, 'orbit_worker_steps_total{result="succeeded"}')).toBe(9); // 3 runs of 3 steps
    expect(sample(after, 'orbit_worker_steps_total{result="failed"}')).toBe(0);
    expect(sample(after, 'orbit_worker_step_retries_total')).toBe(0);
    expect(sample(after, 'orbit_worker_claim_latency_seconds_bucket{le="+Inf",source="queue"}')).toBe(3);
    // The latency is the journal's: from each run's creation to its claim, by the database clock.
    const waited = await h.pool.query<{ run_id: string; seconds: number; claimed: Date }>(
      `SELECT c.run_id, extract(epoch FROM c.occurred_at - q.occurred_at)::float8 AS seconds, c.occurred_at AS claimed
         FROM ${h.qs}.run_events c JOIN ${h.qs}.run_events q ON q.run_id = c.run_id AND q.type = 'run.created'
        WHERE c.type = 'run.claimed' AND c.run_id = ANY ($1)`,
      [[first, ...waiting]],
    );
    const total = waited.rows.reduce((s, r) => s + Number(r.seconds), 0);
    expect(sample(after, 'orbit_worker_claim_latency_seconds_sum{source="queue"}')).toBeCloseTo(total, 3);
    // The two others waited for the slot: claimed only once the first run had ended.
    const firstEnded = ofType(await h.events(first), 'run.succeeded')[0]?.occurred_at.getTime() ?? Infinity;
    for (const r of waited.rows.filter((x) => x.run_id !== first)) expect(r.claimed.getTime()).toBeGreaterThanOrEqual(firstEnded);

    // A run released by its own process (two SIGINTs: its step aborted) is resumed by the worker at once.
    const { runId: released, proc } = await h.startRunUntil(
      'lease-pipeline',
      { firstSleepMs: { long: 60_000 } },
      (ev) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P },
    );
    proc.kill('SIGINT');
    await h.waitFor('orbit run to take the first SIGINT', async () => proc.stderr.includes('SIGINT: finishing the current step'));
    proc.kill('SIGINT');
    expectExit(await proc.done, 130);
    await h.waitFor(
      'the worker to resume the released run and measure its claim',
      async () => sample((after = await scrape(url)), 'orbit_worker_claim_latency_seconds_count{source="released"}') === 1,
      15_000,
    );
    await h.waitFor('the released run to succeed', async () => (await status(released)) === 'success', 15_000);
    const releasedAt = ofType(await h.events(released), 'run.released')[0]?.occurred_at.getTime() as number;
    const resumedAt = ofType(await h.events(released), 'run.resumed')[0]?.occurred_at.getTime() as number;
    expect(sample(after, 'orbit_worker_claim_latency_seconds_sum{source="released"}')).toBeCloseTo(
      (resumedAt - releasedAt) / 1000,
      3,
    );
    expect(sample(after, 'orbit_worker_runs_started_total{source="recovery"}')).toBe(1);
    expect(sample(after, 'orbit_worker_lease_expiries_total{event="taken_over"}')).toBe(0); // released, not expired

    expect((await fetch(url.replace(/\/metrics$/, '/other'))).status).toBe(404);
    worker.kill('SIGINT');
    expectExit(await worker.done, 0);
    // The endpoint goes away with the worker.
    await expect(fetch(url)).rejects.toThrow();
  }, 90_000);

  it('counts lease expiries: the worker that lost its lease, and the one that took its run over', async () => {
    const u = new URL(h.url);
    const proxy = new Outage(u.hostname, Number(u.port || 5432));
    await proxy.up();
    try {
      // Worker A reaches the database through a proxy the test cuts; a 2 s lease, a 1 s retry budget.
      const a = h.start([...P, 'worker', '--metrics-port', '0'], {
        pipelines: false,
        databaseUrl: viaProxy(h.url, proxy),
        env: { ORBIT_LEASE: '2s', ORBIT_RETRY_BUDGET_MS: '1000' },
        timeoutMs: 90_000,
      });
      const urlA = await metricsUrl(a);
      const runId = await queue({ firstSleepMs: { long: 60_000 } });
      await h.waitFor(
        'A to reach the long step',
        async () => ofType(await h.events(runId), 'step.started', 'long').length > 0,
        15_000,
      );
      const ownerA = (await h.run(runId))?.owner;

      // Worker B, direct, with a 2 s threshold: it takes the run once A's lease has expired.
      const b = h.start([...P, '--threshold', '2s', 'worker', '--metrics-port', '0'], { pipelines: false, timeoutMs: 90_000 });
      const urlB = await metricsUrl(b);
      expect(sample(await scrape(urlB), 'orbit_worker_lease_expiries_total{event="taken_over"}')).toBe(0);

      await proxy.down();
      let scrapedA = '';
      await h.waitFor(
        'A to count its lost lease',
        async () => sample((scrapedA = await scrape(urlA)), 'orbit_worker_lease_expiries_total{event="lost"}') === 1,
        10_000,
      );
      // The database is out of A's reach: the queue depth is unknown, the scrape still answers.
      expect(sample(scrapedA, 'orbit_worker_queue_depth')).toBeNaN();
      expect(a.stdout).toContain('Lease not renewed in time: running steps aborted');

      let scrapedB = '';
      await h.waitFor(
        'B to take the run over and count it',
        async () => sample((scrapedB = await scrape(urlB)), 'orbit_worker_lease_expiries_total{event="taken_over"}') === 1,
        20_000,
      );
      expect(sample(scrapedB, 'orbit_worker_runs_started_total{source="recovery"}')).toBe(1);
      expect(sample(scrapedB, 'orbit_worker_recoveries_total{outcome="recovered"}')).toBe(1);
      expect(sample(scrapedB, 'orbit_worker_lease_expiries_total{event="lost"}')).toBe(0);
      // A crash takeover has no "available since" moment: no claim latency sample.
      expect(sample(scrapedB, 'orbit_worker_claim_latency_seconds_count{source="released"}')).toBe(0);
      const run = await h.run(runId);
      expect(run?.status).toBe('success');
      expect(run?.owner).not.toBe(ownerA);

      await proxy.up();
      a.kill('SIGINT');
      b.kill('SIGINT');
      expect((await a.done).timedOut).toBe(false);
      expectExit(await b.done, 0);
    } finally {
      await proxy.down();
    }
  }, 90_000);

  it('refuses a port that is not one (exit 2, nothing started)', async () => {
    const r = await h.cli([...P, 'worker', '--metrics-port', '70000'], { pipelines: false });
    expectExit(r, 2);
    expect(r.stderr).toMatch(/--metrics-port/);
  });
});
