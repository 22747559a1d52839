/**
 * Graceful stop: a worker asked to stop lets its running step finish within the grace period,
 * then aborts it and releases the run (exit 0); a second signal aborts at once and exits 130.
 * `orbit run` stopped by a second signal exits 130 too; `orbit resume` and `orbit recover
 * --auto-resume` stopped by a single signal release their run and exit 130 (the run did not end).
 * Every released run stays recoverable.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type E2eHarness } from '../support/cli';

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
    const signalledAt = (await h.pool.query<{ now: Date }>('SELECT now()')).rows[0]?.now.getTime() ?? 0;
    worker.kill('SIGTERM');
    const r = await worker.done;
    expectExit(r, 0);
    // The step had its grace period: the run was released no sooner than 1 s after the signal (database clock).
    const released = ofType(await h.events(runId), 'run.released')[0];
    expect((released?.occurred_at.getTime() ?? 0) - signalledAt).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toContain('Grace period of 1s over: aborting running steps and releasing their runs');
    const run = await h.run(runId);
    expect([run?.status, run?.owner]).toEqual(['running', null]);
  });

  it('a second signal aborts at once and exits 130; orbit run does the same', async () => {
    const runId = await queueLongRun();
    const worker = h.start([...P, 'worker'], { pipelines: false });
    await h.waitFor('the long step to start', longStarted(runId), 15_000);
    worker.kill('SIGTERM');
    await h.waitFor('the worker to take the first SIGTERM', async () =>
      worker.stderr.includes('SIGTERM: finishing the current step'),
    );
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
    await h.waitFor('orbit run to take the first SIGINT', async () => proc.stderr.includes('SIGINT: finishing the current step'));
    proc.kill('SIGINT');
    expectExit(await proc.done, 130);
    expect((await h.run(direct))?.owner).toBeNull();
    // Both are recoverable at once: released runs need no threshold.
    const check = await h.cli([...P, 'check-interrupted'], { pipelines: false });
    expect(check.lines).toEqual(expect.arrayContaining([`Run ID: ${runId}`, `Run ID: ${direct}`]));
  });

  /** A run whose process was killed with SIGKILL in `long`; the attempts after the first sleep `laterMs`. */
  const killedInLong = async (laterMs: number): Promise<string> => {
    const { runId } = await h.startRunAndKillWhen(
      'lease-pipeline',
      { firstSleepMs: { long: 60_000 }, laterSleepMs: { long: laterMs } },
      (ev) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P },
    );
    return runId;
  };
  const secondAttemptStarted = (runId: string) => async () => ofType(await h.events(runId), 'step.started', 'long').length > 1;

  it('one SIGINT to orbit resume: the step finishes, the run is released, exit 130; it stays recoverable', async () => {
    const runId = await killedInLong(1500);
    const resume = h.start([...P, 'resume', runId], { pipelines: false });
    await h.waitFor('the resumed long step to start', secondAttemptStarted(runId), 15_000);
    resume.kill('SIGINT');
    const r = await resume.done;
    expectExit(r, 130);
    expect(r.stderr).toContain('SIGINT: finishing the current step');
    expect(r.stdout).toContain(`Run ${runId} released before it finished`);
    const events = await h.events(runId);
    expect(events.slice(-2).map((e) => [e.type, e.step_name])).toEqual([
      ['step.succeeded', 'long'],
      ['run.released', null],
    ]);
    expect([(await h.run(runId))?.status, (await h.run(runId))?.owner]).toEqual(['running', null]);

    const again = await h.cli([...P, 'resume', runId], { pipelines: false });
    expectExit(again, 0);
    expect((await h.run(runId))?.status).toBe('success');
    expect(ofType(await h.events(runId), 'step.succeeded', 'long')).toHaveLength(1);
  }, 60_000);

  it('one SIGTERM to orbit recover --auto-resume: the run is released, exit 130; it stays recoverable', async () => {
    const runId = await killedInLong(1500);
    const recover = h.start([...P, 'recover', '--auto-resume'], { pipelines: false });
    await h.waitFor('the resumed long step to start', secondAttemptStarted(runId), 15_000);
    recover.kill('SIGTERM');
    const r = await recover.done;
    expectExit(r, 130);
    expect(r.stdout).toContain(`Run ${runId} skipped: released unfinished (shutting down)`);
    expect([(await h.run(runId))?.status, (await h.run(runId))?.owner]).toEqual(['running', null]);

    const again = await h.cli([...P, 'recover', '--auto-resume'], { pipelines: false });
    expectExit(again, 0);
    expect(again.stdout).toContain(`Recovered run ${runId}`);
    expect((await h.run(runId))?.status).toBe('success');
  }, 60_000);
});
