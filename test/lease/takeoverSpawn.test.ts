/**
 * One child process per takeover. When an owner dies, every worker detects its run at the same
 * deadline (the database computes it: here, the moment a missed renewal proves the owner's
 * process gone) and resumes it in an isolated child `orbit resume`. Each worker used to spawn
 * one, and all but one child lost the claim after paying a process start (R1, R3, R10 on two
 * cores). The takeover is now reserved before the spawn (src/recovery/reserveTakeover.ts): the
 * other worker skips the run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, ofType, REPO_ROOT, succeededPerStep, type CliProcess, type E2eHarness } from '../support/cli';
import { sleep } from '../../src/util/sleep';

const PIPELINES = path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js');
const P = ['--pipelines', PIPELINES];

describe('a takeover from an owner that died', () => {
  let h: E2eHarness;
  let dir: string;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    h = await createE2eHarness('spawn');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-spawn-'));
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spawns one isolated resume across two workers that detect it at the same deadline; the other skips it', async () => {
    const loads = path.join(dir, 'loads.txt');
    const never = path.join(dir, 'never');
    for (let i = 0; i < 2; i++) {
      workers.push(h.start([...P, 'worker'], { pipelines: false, env: { LEASE_TEST_LOADS: loads }, timeoutMs: 120_000 }));
    }
    for (const w of workers) await h.waitFor('the worker to listen', async () => w.stdout.includes('listening on'), 30_000);
    const { runId, proc } = await h.startRunUntil(
      'lease-pipeline',
      { holdUntil: { long: never } },
      (ev) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P, timeoutMs: 60_000 },
    );
    proc.kill('SIGKILL');
    await proc.done;
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 60_000);
    // A loser's child would have been spawned at the same moment as the winner's: give it time to load.
    await sleep(3_000);
    const resumes = existsSync(loads)
      ? readFileSync(loads, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l.includes(` resume ${runId} `))
      : [];
    expect(resumes).toHaveLength(1);
    const events = await h.events(runId);
    expect(ofType(events, 'run.resumed')).toHaveLength(1);
    expect(succeededPerStep(events, ['prepare', 'long', 'finish'])).toEqual({ prepare: 1, long: 1, finish: 1 });
    // Both workers looked at it: one resumed it in its child, the other skipped it, reserved.
    const said = workers.map((w) => `${w.stdout}\n${w.stderr}`);
    expect(said.filter((s) => s.includes(`Recovered run ${runId}`))).toHaveLength(1);
    expect(said.filter((s) => new RegExp(`Run ${runId} skipped: (being )?taken over by`).test(s))).toHaveLength(1);
    for (const w of workers) w.kill('SIGINT');
    for (const w of workers) expect((await w.done).code).toBe(0);
  }, 180_000);
});
