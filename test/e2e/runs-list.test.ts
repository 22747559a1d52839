import { createE2eHarness, expectExit, newE2eRunId, type E2eHarness } from '../support/cli';

let h: E2eHarness;
beforeAll(async () => {
  h = await createE2eHarness('e2e_runs');
});
afterAll(async () => h.dispose());

describe('orbit runs', () => {
  it('lists failed runs with their reason, newest first, and nothing else when filtered', async () => {
    const ok = newE2eRunId('ok');
    const bad = newE2eRunId('bad');
    expectExit(await h.cli(['run', 'etl-pipeline', '--run-id', ok]), 0);
    expectExit(await h.cli(['run', 'etl-pipeline', '--run-id', bad, '--metadata', '{"fatal":"clean"}']), 1);

    const failed = await h.cli(['runs', '--status', 'failed']);
    expectExit(failed, 0);
    expect(failed.lines).toHaveLength(3);
    expect(failed.lines[0]).toMatch(/^RUN +PIPELINE +STATUS +STEPS +STARTED +DURATION$/);
    expect(failed.lines[1]).toMatch(new RegExp(`^${bad}  etl-pipeline  failed  1/3    \\S+Z  \\d+(ms|\\.\\ds)$`));
    expect(failed.lines[2]).toBe('  step "clean" failed (not retryable): clean cannot succeed');

    const json = await h.cli(['runs', '--json']);
    expectExit(json, 0);
    const listed = JSON.parse(json.stdout) as { runId: string; status: string }[];
    expect(listed.map((r) => [r.runId, r.status])).toEqual([
      [bad, 'failed'],
      [ok, 'success'],
    ]);
  });

  it('refuses an unknown status with one line on stderr', async () => {
    const r = await h.cli(['runs', '--status', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^Error: Invalid values: Argument: status, Given: "bogus"/);
  });
});
