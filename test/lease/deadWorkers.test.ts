/**
 * A process killed with kill -9 on this machine is shown as gone at once by `orbit workers` (and
 * the dashboard's Workers page, which reads the same listWorkers), not as live until its lease
 * runs out: proof of death, as recovery uses it. An idle worker too (it holds no lease: the
 * identity its registration journals is what proves it gone), not live until its registration ends.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type E2eHarness } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];

interface WorkerJson {
  readonly id: string;
  readonly pid: number;
  readonly live: boolean;
  readonly processGone: boolean;
  readonly leaseUntil: string | null;
  readonly aliveUntil: string | null;
  readonly runs: readonly string[];
}

describe('orbit workers and a process killed with kill -9', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('lease_dead');
  });
  afterAll(async () => h.dispose());

  it('lists it as gone while its lease would still hold, and says so in one line', async () => {
    const { runId, proc } = await h.startRunUntil(
      'lease-pipeline',
      { firstSleepMs: { long: 60_000 } },
      (ev) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P },
    );
    const pid = proc.child.pid;
    const alive = await h.cli([...P, 'workers', '--json'], { pipelines: false });
    expectExit(alive, 0);
    const before = (JSON.parse(alive.stdout) as { workers: WorkerJson[] }).workers.find((w) => w.pid === pid);
    expect(before).toMatchObject({ live: true, processGone: false, runs: [runId] });

    proc.kill('SIGKILL');
    await proc.done;
    const after = await h.cli([...P, 'workers', '--json'], { pipelines: false });
    expectExit(after, 0);
    const dead = (JSON.parse(after.stdout) as { workers: WorkerJson[] }).workers.find((w) => w.pid === pid);
    expect(dead).toMatchObject({ live: false, processGone: true, runs: [runId] });
    // Its lease row still says it holds the run for a while: the liveness rule must not trust it.
    expect(Date.parse(dead?.leaseUntil ?? '')).toBeGreaterThan(Date.now() - 1000);

    const text = await h.cli([...P, 'workers'], { pipelines: false });
    expectExit(text, 0);
    expect(text.stdout).toMatch(/^Workers: 0 live \(0 idle\), 0 with an expired lease, 1 whose process is gone$/m);
    expect(text.stdout).toMatch(/^ {2}Dead: its process is gone \(its lease would hold for /m);
  }, 60_000);
});

// Its own schema: no interrupted run there for the worker to take over (it must stay idle).
describe('orbit workers and an idle worker killed with kill -9', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('idle_dead');
  });
  afterAll(async () => h.dispose());

  it('lists an idle worker killed with kill -9 as gone at once, not live until its registration ends', async () => {
    const worker = h.start([...P, 'worker', '--concurrency', '2'], { pipelines: false, timeoutMs: 60_000 });
    const pid = worker.child.pid;
    const listed = async () => {
      const r = await h.cli([...P, 'workers', '--json'], { pipelines: false });
      expectExit(r, 0);
      return (JSON.parse(r.stdout) as { workers: WorkerJson[] }).workers.find((w) => w.pid === pid);
    };
    let before: WorkerJson | undefined;
    await h.waitFor('the idle worker to register', async () => (before = await listed()) !== undefined, 20_000);
    expect(before).toMatchObject({ live: true, processGone: false, leaseUntil: null, runs: [] });

    worker.kill('SIGKILL');
    await worker.done;
    const dead = await listed();
    expect(dead).toMatchObject({ live: false, processGone: true, leaseUntil: null, runs: [] });
    // Its registration would still count it alive for a while: the proof of death, not that, decides.
    expect(Date.parse(dead?.aliveUntil ?? '')).toBeGreaterThan(Date.now() - 1000);
    const text = await h.cli([...P, 'workers'], { pipelines: false });
    expectExit(text, 0);
    expect(text.stdout).toMatch(/^Workers: 0 live \(0 idle\), 0 with an expired lease, 1 whose process is gone$/m);
    expect(text.stdout).toMatch(/^ {2}Dead: its process is gone \(its registration would hold for /m);
  }, 60_000);
});
