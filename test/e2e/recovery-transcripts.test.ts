/**
 * The spec's transcripts (RECOVERY.md) at any concurrency, by real processes: `orbit recover
 * --auto-resume` prints each run's lines as one block, `--timestamps` stamps every line, `orbit
 * resume` prints no header before a refusal, and `orbit stats` counts the runs detected as
 * interrupted.
 */
import { createE2eHarness, expectExit, ofType, type E2eHarness, type EventRow } from '../support/cli';

const THRESHOLD = ['--threshold', '1s'];
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
const transformStarted = (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'transform-data').length > 0;
const noDoubledBlank = (lines: readonly string[]) => expect(lines.some((l, i) => l === '' && lines[i + 1] === '')).toBe(false);

describe('recovery transcripts: one block per run whatever the concurrency, --timestamps, stats', () => {
  let h: E2eHarness;
  const runIds: string[] = [];

  beforeAll(async () => {
    h = await createE2eHarness('e2e_transcripts');
  });

  afterAll(async () => {
    await h.dispose();
  });

  it('three runs killed in transform-data are recovered at once, each run its own contiguous block', async () => {
    // Different sleeps on resume: the three recoveries overlap and finish in another order than they start.
    for (const ms of [1500, 200, 800]) {
      const k = await h.startRunAndKillWhen('data-pipeline', { sleepMs: { 'transform-data': ms } }, transformStarted);
      runIds.push(k.runId);
    }
    await h.waitUntilStale(runIds, 1000);

    const r = await h.cli(['--timestamps', 'recover', '--auto-resume', '--concurrency', '4', '--verbose', ...THRESHOLD], {
      timeoutMs: 60_000,
    });
    expectExit(r, 0);
    for (const l of r.lines) if (l !== '') expect(l).toMatch(STAMP);
    const lines = r.lines.map((l) => l.replace(STAMP, ''));
    noDoubledBlank(lines);
    expect(lines.slice(0, 4)).toEqual(['Run Recovery', '', 'Scanning for interrupted runs...', '']);

    const attempts = lines.flatMap((l, i) => (l.startsWith('Attempting to recover run ') ? [i] : []));
    expect(attempts).toHaveLength(3);
    for (const at of attempts) {
      const id = runIds.find((x) => lines[at] === `Attempting to recover run ${x} (data-pipeline)...`);
      expect(id).toBeDefined();
      // The run's steps, then its outcome, with nothing of another run in between.
      expect(lines.slice(at + 1, at + 5)).toEqual([
        expect.stringMatching(/^✓ transform-data \(/),
        expect.stringMatching(/^✓ load-data \(/),
        expect.stringMatching(/^✓ notify \(/),
        `✓ Recovered run ${id}, executed 3 step(s)`,
      ]);
    }
    expect(lines.slice(-7)).toEqual([
      '',
      'Recovery Summary:',
      '  Detected: 3',
      '  Recovered: 3',
      '  Failed: 0',
      '',
      'All interrupted runs recovered successfully',
    ]);
    for (const id of runIds) expect((await h.run(id))?.status).toBe('success');
  });

  it('with nothing to recover the transcript has no doubled blank line', async () => {
    const r = await h.cli(['recover', '--auto-resume', ...THRESHOLD]);
    expectExit(r, 0);
    noDoubledBlank(r.lines);
    expect(r.lines).toEqual([
      'Run Recovery',
      '',
      'Scanning for interrupted runs...',
      '',
      'Recovery Summary:',
      '  Detected: 0',
      '  Recovered: 0',
      '  Failed: 0',
      '',
      'No interrupted runs found',
    ]);
  });

  it('orbit resume of a finished run is refused without printing "Resuming Run:" first', async () => {
    const r = await h.cli(['resume', runIds[0] as string, ...THRESHOLD]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: /);
  });

  it('orbit stats reports the running total of runs detected as interrupted (3), none interrupted now', async () => {
    const r = await h.cli(['stats', ...THRESHOLD]);
    expectExit(r, 0);
    expect(r.lines).toContain('  Interrupted runs now: 0');
    expect(r.lines).toContain('  Runs detected as interrupted (total): 3');
    const j = await h.cli(['--json', 'stats', ...THRESHOLD]);
    expectExit(j, 0);
    expect(JSON.parse(j.stdout)).toMatchObject({ interruptedNow: 0, interruptedTotal: 3, runsRecovered: 3 });
  });
});
