/**
 * What `orbit worker` prints when it wakes a sleeping run: a wake-up, not a recovery (the run was
 * never interrupted), and, when the run sleeps again, on what. Before, each wake-up printed
 * "✓ Recovered run …, executed N step(s)", also for a run that went back to sleep.
 */
import * as path from 'node:path';
import { createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

const PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'twoNapsPipeline.js');
const opts = { pipelines: false } as const;

describe('orbit worker: wake-up lines', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_wake_lines');
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('says it woke the run, that it sleeps again until when, then how it ended; never "Recovered"', async () => {
    const run = await h.cli(['--pipelines', PIPELINES, 'run', 'two-naps', '--json'], opts);
    expectExit(run, 0);
    const runId = (JSON.parse(run.stdout) as { runId: string }).runId;
    const worker = h.start(['--pipelines', PIPELINES, 'worker', '--metrics-port', '0'], opts);
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 60_000);
    await h.waitFor(
      'the last line',
      async () => /executed \d+ step\(s\)(: success)?\n/.test(worker.stdout.split(runId).pop() ?? ''),
      20_000,
    );
    // Two wake-ups, no recovery: the recovery metric counts only runs that were interrupted.
    const url = /Prometheus metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(worker.stdout)?.[1] as string;
    const text = await (await fetch(url)).text();
    expect(text).toMatch(/^orbit_worker_wakeups_total\{outcome="recovered"\} 2$/m);
    expect(text).toMatch(/^orbit_worker_recoveries_total\{outcome="recovered"\} 0$/m);
    worker.kill('SIGTERM');
    const done = await worker.done;
    expectExit(done, 0);
    const lines = done.stdout.split('\n').filter((l) => l.includes(runId) && !l.includes('Prometheus'));
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^ℹ Woke run ${runId}, executed \\d+ step\\(s\\); it is sleeping until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^✓ Woke run ${runId}, executed \\d+ step\\(s\\): success$`)),
    ]);
  }, 120_000);
});
