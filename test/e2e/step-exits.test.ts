/**
 * A step that calls `process.exit(0)` (issue 20 item 6). On main before this test, `orbit worker`
 * exited 0 with the run it held unfinished (a `Restart=on-failure` unit would not restart it), and
 * `orbit run` exited 0 with its run still `running`. Now the process says what happened and exits
 * non-zero; the run stays recoverable, and a worker whose isolated child is exited that way reports
 * it and keeps going.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, newE2eRunId, REPO_ROOT, type E2eHarness } from '../support/cli';

const ODD = ['--pipelines', path.join(REPO_ROOT, 'test', 'fixtures', 'oddErrors.js')];
const EXITED = /^✗ process\.exit\(0\) was called while this process had work in hand \(by a step\?\): exiting with code 1/m;

describe('a step that calls process.exit(0)', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_exit');
  });
  afterAll(async () => h.dispose());

  it('makes orbit worker exit 1, not 0, saying so, with the run it held left to recovery', async () => {
    const runId = newE2eRunId('queued');
    expectExit(
      await h.cli([...ODD, 'run', 'odd-error', '--queue', '--run-id', runId, '--metadata', '{"exit":0}'], { pipelines: false }),
      0,
    );
    const worker = await h.start([...ODD, 'worker'], { pipelines: false }).done;
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(EXITED);
    expect((await h.run(runId))?.status).toBe('running');
  });

  it('makes orbit run exit 1 with its run unfinished, and a worker reports the isolated child it loses the same way', async () => {
    const runId = newE2eRunId('run');
    const run = await h.cli([...ODD, 'run', 'odd-error', '--run-id', runId, '--metadata', '{"exit":0}'], {
      pipelines: false,
      env: { ORBIT_LEASE: '1s' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(EXITED);
    expect((await h.run(runId))?.status).toBe('running');

    // The run's process is dead: a worker resumes it in a child of its own, whose step exits again.
    const worker = h.start([...ODD, '--threshold', '1s', 'worker'], { pipelines: false, timeoutMs: 60_000 });
    const failed = `✗ Failed to recover run ${runId}: resumed in a process of its own, which exited with code 1 and no result document (✗ process.exit(0) was called while this process had work in hand`;
    await h.waitFor('the worker to report its lost child', async () => worker.stdout.includes(failed), 30_000);
    expect(worker.running).toBe(true);
    worker.kill('SIGTERM');
    expectExit(await worker.done, 0);
  });
});
