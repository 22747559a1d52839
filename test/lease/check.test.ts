/**
 * `orbit check-interrupted` says why nothing was found (runs held by live workers, runs waiting
 * out the threshold with the time left and a --threshold that lists them) and lists recent runs
 * with failed steps under their own heading.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type E2eHarness, type EventRow } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];
const longStarted = (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'long').length > 0;

describe('check-interrupted explains an empty result', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('lease_check');
  });
  afterAll(() => h.dispose());

  it('counts live and waiting runs, suggests a --threshold that lists the waiting one, and lists failed runs apart', async () => {
    const failed = await h.cli(['run', 'data-pipeline', '--metadata', JSON.stringify({ fatal: 'load-data' })]);
    expectExit(failed, 1);
    // Live for as long as the test needs it (its step holds until the process is killed at the end).
    const live = await h.startRunUntil('lease-pipeline', { holdUntil: { long: '/nonexistent/orbit-never' } }, longStarted, {
      pipelines: false,
      extraArgs: P,
    });
    const gone = await h.startRunUntil('lease-pipeline', { firstSleepMs: { long: 30_000 } }, longStarted, {
      pipelines: false,
      extraArgs: P,
      env: { ORBIT_LEASE: '1s' },
    });
    // Its owner "lives on another machine": only the threshold can declare it interrupted.
    await h.pool.query(`UPDATE ${h.qs}.workers SET host = 'another-host' WHERE $1 = ANY (held)`, [gone.runId]);
    gone.proc.kill('SIGKILL');
    await gone.proc.done;
    // Until its lease (1 s) has expired and it has been silent for more than 2 s, by the rule itself.
    await h.waitFor(
      'the killed run to be stale with a 2 s threshold',
      async () =>
        (
          await h.pool.query<{ verdict: string }>(
            `SELECT l.verdict FROM ${h.qs}.runs r CROSS JOIN LATERAL ${h.qs}.run_liveness(r, 2000, '{}') l WHERE r.id = $1`,
            [gone.runId],
          )
        ).rows[0]?.verdict === 'stale',
      10_000,
    );

    const r = await h.cli([...P, 'check-interrupted'], { pipelines: false });
    expectExit(r, 0);
    expect(r.lines).toContain('✓ No interrupted runs found');
    expect(r.lines).toContain('ℹ 1 unfinished run(s) held by live workers (valid lease): being executed, not interrupted');
    const waiting = r.lines.find((l) => l.startsWith('ℹ 1 unfinished run(s) with no live owner, waiting out the 10m threshold'));
    expect(waiting).toBeDefined();
    const suggested = /or now with --threshold (\d+s)$/.exec(waiting ?? '')?.[1];
    expect(suggested).toBeDefined();
    const failedAt = r.lines.indexOf('Runs that failed with failed steps (last 24 h): 1');
    expect(failedAt).toBeGreaterThan(0);
    // One line for the run: its first failed step and that step's error.
    expect(r.lines[failedAt + 1]).toMatch(
      /^ {2}\S+ {2}data-pipeline {2}\S+Z {2}load-data: NonRetryableError: load-data cannot succeed$/,
    );

    const listed = await h.cli([...P, '--threshold', suggested as string, 'check-interrupted'], { pipelines: false });
    expectExit(listed, 0);
    expect(listed.lines).toContain(`Run ID: ${gone.runId}`);
    expect(listed.stdout).not.toContain(`Run ID: ${live.runId}`);
    live.proc.kill('SIGKILL');
  }, 60_000);
});
