/**
 * A process killed with kill -9 on this machine is shown as gone at once by `orbit workers` (and
 * the dashboard's Workers page, which reads the same listWorkers), not as live until its lease
 * runs out: proof of death, as recovery uses it.
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
