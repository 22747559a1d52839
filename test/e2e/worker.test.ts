/**
 * `orbit worker`: released runs are resumed the moment they are released (LISTEN/NOTIFY), runs
 * whose process was killed are found by the next sweep after the threshold.
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
    worker = h.start(['--threshold', '1s', 'worker', '--sweep-interval', '500ms'], { timeoutMs: 60_000 });
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

  it('finds a run whose process was killed with SIGKILL at the next sweep after the threshold', async () => {
    const { runId } = await h.startRunAndKillWhen('data-pipeline', { sleepMs: { 'load-data': 5000 } }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'load-data'),
    );
    await h.waitFor('the worker to recover the killed run', finished(runId), 15_000);
    // A run's block is printed together once its recovery returns, a moment after its last commit.
    const attempting = `Attempting to recover run ${runId} (data-pipeline)...`;
    await h.waitFor('the worker to report the recovery', async () => worker.stdout.includes(attempting), 5_000);
    const events = await h.events(runId);
    expect(ofType(events, 'step.started', 'load-data').map((e) => e.attempt)).toEqual([1, 2]);
    expect(succeededPerStep(events)).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
  });

  it('stops cleanly on SIGINT', async () => {
    worker.kill('SIGINT');
    const r = await worker.done;
    expectExit(r, 0);
    expect(r.lines[r.lines.length - 1]).toBe('Recovery worker stopped');
  });
});
