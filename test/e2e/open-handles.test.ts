/**
 * A command ends when its work ends, whatever handles the user's pipelines module leaves open (a
 * `pg` Pool's idle client, a listening socket): `orbit run` and `orbit resume` (which is also what a
 * worker's isolated child runs) exit with their code instead of waiting for those handles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type E2eHarness } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'fixtures', 'openHandlesPipelines.js')];

describe('a pipelines module with open handles', () => {
  let h: E2eHarness;
  let dir: string;

  beforeAll(async () => {
    h = await createE2eHarness('open_handles');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-open-handles-'));
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not keep orbit run or orbit resume alive once the run has ended', async () => {
    // The harness kills a child that outlives timeoutMs and cli() then throws: today's hang.
    const run = await h.cli([...P, 'run', 'open-handles', '--run-id', 'oh-1'], { pipelines: false, timeoutMs: 30_000 });
    expectExit(run, 0);
    expect((await h.run('oh-1'))?.status).toBe('success');

    const { runId } = await h.startRunAndKillWhen(
      'open-handles',
      { holdUntil: path.join(dir, 'never') },
      (ev) => ofType(ev, 'step.started', 'hold').length > 0,
      { pipelines: false, extraArgs: P },
    );
    // Its process is gone (same host): resumable at once.
    const resume = await h.cli([...P, 'resume', runId], { pipelines: false, timeoutMs: 30_000 });
    expectExit(resume, 0);
    expect((await h.run(runId))?.status).toBe('success');
  }, 90_000);
});
