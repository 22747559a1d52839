/** `orbit history <id> --follow` prints events as they are journaled and exits when the run ends. */
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';

describe('orbit history --follow', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_follow');
  });
  afterAll(async () => h.dispose());

  it('streams a running run to its end, then exits 0', async () => {
    const started = await h.startRunUntil('etl-pipeline', { sleepMs: { clean: 700, load: 300 } }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'clean'),
    );
    const follower = h.start(['history', started.runId, '--follow']);
    const r = await follower.done;
    expectExit(r, 0);
    expectExit(await started.proc.done, 0);
    const types = r.lines.map((l) => l.trim().split(/\s+/)[2]);
    expect(types).toEqual([
      'run.created',
      'run.claimed',
      'step.started',
      'step.succeeded',
      'step.started',
      'step.succeeded',
      'step.started',
      'step.succeeded',
      'run.succeeded',
    ]);
    expect(r.lines.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('with --json prints one JSON event per line', async () => {
    const done = await h.cli(['run', 'etl-pipeline']);
    const runId = /Run ID: (\S+)/.exec(done.stdout)?.[1] ?? '';
    const r = await h.cli(['history', runId, '--follow', '--json']);
    expectExit(r, 0);
    const events = r.lines.map((l) => JSON.parse(l) as { seq: number; event: { type: string } });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events[8]?.event.type).toBe('run.succeeded');
  });

  it('a running run is drawn up to the database clock: how long it has been going, not frozen at its last event', async () => {
    const started = await h.startRunUntil('etl-pipeline', { sleepMs: { clean: 20_000 } }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'clean'),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const r = await h.cli(['history', started.runId]);
    started.proc.kill('SIGKILL');
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(/: not ended, \d+\.\d+s so far \(last event \d+\.\d+s ago\);/);
    const clean = r.lines.find((l) => l.startsWith('clean #1')) ?? '';
    // At least the 1.5 s waited, not the 0 ms between its start and the run's last event.
    const secs = Number(/\|\s+(\d+\.\d+)s running/.exec(clean)?.[1]);
    expect(secs).toBeGreaterThanOrEqual(1.4);
  });
});
