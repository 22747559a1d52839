/**
 * `orbit cancel <runId>` while `orbit run` is inside a step: the step's signal fires, the run
 * process ends, the run is cancelled and no later step starts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, describeResult, expectExit, ofType, type E2eHarness } from '../support/cli';
import { holdsFor } from '../support/waitFor';

describe('cancel a running run from another process', () => {
  let h: E2eHarness;
  let dir: string;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_cancel');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-cancel-'));
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cancel during a 20 s step ends the run process at once; status cancelled; no later step started', async () => {
    const marker = path.join(dir, 'marker.txt');
    const { runId, proc } = await h.startRunUntil('data-pipeline', { sleepMs: { 'transform-data': 600_000 }, marker }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'transform-data'),
    );
    // The handler is in its sleep (it wrote its marker line first).
    await h.waitFor('transform-data to be inside its handler', async () =>
      readFileSync(marker, 'utf8').includes('transform-data 1'),
    );

    const c = await h.cli(['cancel', runId, '--reason', 'e2e says stop']);
    expectExit(c, 0);
    expect(c.lines).toContain(`✓ Run ${runId} cancelled`);

    const run = await proc.done;
    // It ended because the step's signal fired: its 10 min sleep is the only other way out.
    expect(run.signal).toBeNull();
    // A run that ended cancelled is not a success: the run command exits 1 and says so.
    if (run.code !== 1) throw new Error(`expected exit 1 for a cancelled run\n${describeResult(run)}`);
    expect(run.lines).toContain(`✗ Run ${runId} cancelled: e2e says stop`);

    // Nothing is written after the cancellation, even a moment later.
    await holdsFor(async () => (await h.events(runId)).at(-1)?.type === 'run.cancelled', {
      what: 'run.cancelled staying the last event',
      forMs: 300,
      everyMs: 50,
    });
    const events = await h.events(runId);
    expect(events[events.length - 1]).toMatchObject({ type: 'run.cancelled' });
    expect(ofType(events, 'run.cancelled')[0]?.payload).toMatchObject({ reason: 'e2e says stop' });
    expect(ofType(events, 'step.succeeded', 'transform-data')).toHaveLength(0);
    expect(ofType(events, 'step.started', 'load-data')).toHaveLength(0);
    expect(ofType(events, 'step.started', 'notify')).toHaveLength(0);
    const row = await h.run(runId);
    expect(row?.status).toBe('cancelled');
    expect(row?.owner).toBeNull();
    expect(readFileSync(marker, 'utf8').trim().split('\n')).toEqual([
      `fetch-data 1 ${runId}:fetch-data`,
      `transform-data 1 ${runId}:transform-data`,
    ]);

    // A cancelled run is not interrupted and cannot be resumed.
    const check = await h.cli(['check-interrupted', '--threshold', '1s']);
    expectExit(check, 0);
    expect(check.stdout).not.toContain(runId);
    const resume = await h.cli(['resume', runId]);
    expectExit(resume, 1);
    expect(resume.errLines).toEqual([`Error: Run ${runId} cannot be resumed: it was cancelled`]);
    expectExit(await h.cli(['verify', runId]), 0);
  });
});
