/**
 * `orbit worker` with no sweep interval (the default: no polling): released runs are resumed the
 * moment they are released (LISTEN/NOTIFY); a run whose process on this machine was killed is
 * found at the deadline the database computes (a second after its owner's missed renewal).
 */
import {
  createE2eHarness,
  DATA_PIPELINE_STEPS,
  expectExit,
  ofType,
  succeededPerStep,
  type CliProcess,
  type E2eHarness,
} from '../support/cli';

describe('orbit worker', () => {
  let h: E2eHarness;
  let worker: CliProcess;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_worker');
    worker = h.start(['--threshold', '1s', 'worker'], { timeoutMs: 60_000 });
    await h.waitFor('the worker to listen', async () => worker.stdout.includes('listening on'), 15_000);
  });
  afterAll(async () => {
    worker.kill('SIGKILL');
    await h.dispose();
  });

  const finished = (runId: string) => async () => (await h.run(runId))?.status === 'success';

  it('resumes a run as soon as its process releases it on SIGTERM, without waiting out a threshold', async () => {
    const started = await h.startRunUntil('data-pipeline', { sleepMs: { 'transform-data': 800 } }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'transform-data'),
    );
    started.proc.kill('SIGTERM');
    expectExit(await started.proc.done, 130); // released, not ended
    await h.waitFor('the worker to finish the released run', finished(started.runId), 10_000);
    expect(worker.stdout).toContain(`Run ${started.runId} was released; resuming it`);
    // The run's block is printed once its resume returns, a moment after its last commit.
    const recovered = `✓ Recovered run ${started.runId}, executed 2 step(s)`;
    await h.waitFor('the worker to report the recovery', async () => worker.stdout.includes(recovered), 5_000);
    const events = await h.events(started.runId);
    expect(ofType(events, 'run.resumed')).toHaveLength(1);
    expect(succeededPerStep(events)).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
  });

  it('finds a run whose process was killed with SIGKILL at the deadline of its missed renewal', async () => {
    const { runId } = await h.startRunAndKillWhen('data-pipeline', { sleepMs: { 'load-data': 5000 } }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'load-data'),
    );
    // Found about lease/3 + 1 s after the last renewal (6 s with the default 15 s lease), then
    // resumed in a child process of its own, whose load-data sleeps 5 s again.
    await h.waitFor('the worker to recover the killed run', finished(runId), 25_000);
    // A run's block is printed together once its recovery returns, a moment after its last commit.
    const attempting = `Attempting to recover run ${runId} (data-pipeline)...`;
    await h.waitFor('the worker to report the recovery', async () => worker.stdout.includes(attempting), 5_000);
    const events = await h.events(runId);
    expect(ofType(events, 'step.started', 'load-data').map((e) => e.attempt)).toEqual([1, 2]);
    expect(succeededPerStep(events)).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
    // The automatic recovery is the worker's in the journal: done for it, with its reason, by the
    // child process that executed the run under its own lease.
    const workerId = /^Recovery worker (\S+) listening/.exec(worker.stdout)?.[1] ?? '(no worker id)';
    const [resumed] = ofType(events, 'run.resumed');
    expect(resumed?.payload).toMatchObject({ requestedBy: workerId, reason: 'interrupted; resumed by a recovery worker' });
    const history = await h.cli(['history', runId]);
    expect(history.lines.find((l) => l.includes('run.resumed'))).toContain(
      `for ${workerId} from load-data (interrupted; resumed by a recovery worker)`,
    );
  });

  it('stops cleanly on SIGINT', async () => {
    worker.kill('SIGINT');
    const r = await worker.done;
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(/^Recovery worker \S+ listening on \S+ \(threshold 1s\); Ctrl\+C to stop$/);
    expect(r.lines[r.lines.length - 1]).toBe('Recovery worker stopped');
  });
});
