/**
 * Graceful stop: a worker asked to stop lets its running step finish within the grace period,
 * then aborts it and releases the run (exit 0); a second signal aborts at once and exits 130.
 * `orbit run` stopped by a second signal exits 130 too. Every released run stays recoverable.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, sleep, type E2eHarness } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];

describe('stopping', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('lease_stop');
  });
  afterAll(() => h.dispose());

  const queueLongRun = async (): Promise<string> => {
    const q = await h.cli(
      [...P, 'run', 'lease-pipeline', '--queue', '--metadata', JSON.stringify({ firstSleepMs: { long: 60_000 } })],
      {
        pipelines: false,
      },
    );
    expectExit(q, 0);
    return /Queued run (\S+) /.exec(q.stdout)?.[1] as string;
  };
  const longStarted = (runId: string) => async () => ofType(await h.events(runId), 'step.started', 'long').length > 0;

  it('SIGTERM: the step gets the grace period, then is aborted and its run released; exit 0', async () => {
    const runId = await queueLongRun();
    const worker = h.start([...P, 'worker', '--grace', '1s'], { pipelines: false });
    await h.waitFor('the long step to start', longStarted(runId), 15_000);
    const t0 = Date.now();
    worker.kill('SIGTERM');
    const r = await worker.done;
    expectExit(r, 0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toContain('Grace period of 1s over: aborting running steps and releasing their runs');
    const run = await h.run(runId);
    expect([run?.status, run?.owner]).toEqual(['running', null]);
  });

  it('a second signal aborts at once and exits 130; orbit run does the same', async () => {
    const runId = await queueLongRun();
    const worker = h.start([...P, 'worker'], { pipelines: false });
    await h.waitFor('the long step to start', longStarted(runId), 15_000);
    worker.kill('SIGTERM');
    await sleep(300);
    worker.kill('SIGTERM');
    expectExit(await worker.done, 130);
    expect((await h.run(runId))?.owner).toBeNull();

    const { runId: direct, proc } = await h.startRunUntil(
      'lease-pipeline',
      { firstSleepMs: { long: 60_000 } },
      (ev) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P },
    );
    proc.kill('SIGINT');
    await sleep(300);
    proc.kill('SIGINT');
    expectExit(await proc.done, 130);
    expect((await h.run(direct))?.owner).toBeNull();
    // Both are recoverable at once: released runs need no threshold.
    const check = await h.cli([...P, 'check-interrupted'], { pipelines: false });
    expect(check.lines).toEqual(expect.arrayContaining([`Run ID: ${runId}`, `Run ID: ${direct}`]));
  });
});
