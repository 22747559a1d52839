/**
 * `orbit worker --metrics-port`: a real worker process serves Prometheus metrics on 127.0.0.1;
 * a queued run executed through it moves the counters.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

const PIPELINES = path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js');
const P = ['--pipelines', PIPELINES];

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('orbit worker --metrics-port', () => {
  let h: E2eHarness;

  beforeAll(async () => {
    h = await createE2eHarness('lease_metrics');
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('serves Prometheus counters on 127.0.0.1 that a queued run moves', async () => {
    const worker = h.start([...P, 'worker', '--metrics-port', '0'], { pipelines: false, timeoutMs: 60_000 });
    await h.waitFor('the worker to listen', async () => worker.stdout.includes('listening on'), 15_000);
    const url = /Prometheus metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(worker.stdout)?.[1];
    expect(url).toBeDefined();
    const scrape = async (): Promise<string> => {
      const res = await fetch(url as string);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      return res.text();
    };

    const before = await scrape();
    expect(sample(before, 'orbit_worker_runs_started_total{source="queue"}')).toBe(0);
    expect(sample(before, 'orbit_worker_queued_runs_ended_total{status="success"}')).toBe(0);
    expect(before).toContain('# TYPE orbit_worker_steps_total counter');

    const r = await h.cli([...P, 'run', 'lease-pipeline', '--queue', '--wait'], { pipelines: false });
    expectExit(r, 0);

    // --wait returns when the run's status is written; the worker reports the run's end just after.
    let after = '';
    await h.waitFor(
      'the worker to count the run',
      async () => sample((after = await scrape()), 'orbit_worker_queued_runs_ended_total{status="success"}') === 1,
      10_000,
    );
    expect(sample(after, 'orbit_worker_runs_started_total{source="queue"}')).toBe(1);
    expect(sample(after, 'orbit_worker_runs_started_total{source="recovery"}')).toBe(0);
    expect(sample(after, 'orbit_worker_queued_runs_ended_total{status="success"}')).toBe(1);
    expect(sample(after, 'orbit_worker_queued_runs_ended_total{status="failed"}')).toBe(0);
    expect(sample(after, 'orbit_worker_steps_total{result="succeeded"}')).toBe(3); // lease-pipeline has 3 steps
    expect(sample(after, 'orbit_worker_steps_total{result="failed"}')).toBe(0);
    expect(sample(after, 'orbit_worker_step_retries_total')).toBe(0);

    expect((await fetch((url as string).replace(/\/metrics$/, '/other'))).status).toBe(404);

    worker.kill('SIGINT');
    expectExit(await worker.done, 0);
    // The endpoint goes away with the worker.
    await expect(fetch(url as string)).rejects.toThrow();
  }, 60_000);

  it('refuses a port that is not one (exit 2, nothing started)', async () => {
    const r = await h.cli([...P, 'worker', '--metrics-port', '70000'], { pipelines: false });
    expectExit(r, 2);
    expect(r.stderr).toMatch(/--metrics-port/);
  });
});
