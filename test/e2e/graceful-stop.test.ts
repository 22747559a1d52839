/**
 * SIGTERM to `orbit run` during a step: it finishes the step, journals run.released and exits 130;
 * the run is listed by check-interrupted at once (default threshold) and `resume` finishes it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createE2eHarness,
  DATA_PIPELINE_STEPS,
  expectExit,
  FIXTURE_PIPELINES,
  ofType,
  succeededPerStep,
  type E2eHarness,
} from '../support/cli';

describe('graceful stop with SIGTERM', () => {
  let h: E2eHarness;
  let dir: string;
  let runId: string;
  let marker: string;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_term');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-term-'));
    marker = path.join(dir, 'marker.txt');
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM during transform-data: the step finishes, run.released is journaled, exit 130', async () => {
    const started = await h.startRunUntil('data-pipeline', { sleepMs: { 'transform-data': 1500 }, marker }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'transform-data'),
    );
    runId = started.runId;
    started.proc.kill('SIGTERM');
    const r = await started.proc.done;
    expectExit(r, 130);
    // The hint repeats the options the resume needs (schema, pipelines module): it pastes as is.
    expect(r.lines).toContain(
      `ℹ Run ${runId} released before it finished; resume it with: orbit --schema ${h.schema} --pipelines ${FIXTURE_PIPELINES} resume ${runId}`,
    );
    expect(r.stderr).toContain('SIGTERM: finishing the current step');

    const events = await h.events(runId);
    expect(events.map((e) => [e.type, e.step_name])).toEqual([
      ['run.created', null],
      ['run.claimed', null],
      ['step.started', 'fetch-data'],
      ['step.succeeded', 'fetch-data'],
      ['step.started', 'transform-data'],
      ['step.succeeded', 'transform-data'],
      ['run.released', null],
    ]);
    const row = await h.run(runId);
    expect(row?.status).toBe('running');
    expect(row?.owner).toBeNull();
    // The process removed its liveness row on the way out.
    const workers = await h.pool.query(`SELECT id FROM ${h.qs}.workers`);
    expect(workers.rows).toEqual([]);
  });

  it('check-interrupted with the default 10-minute threshold lists the released run at once', async () => {
    const r = await h.cli(['check-interrupted']);
    expectExit(r, 0);
    expect(r.lines).toContain('Found 1 interrupted run(s):');
    const at = r.lines.indexOf(`Run ID: ${runId}`);
    expect(at).toBeGreaterThan(0);
    expect(r.lines.slice(at + 4, at + 8)).toEqual([
      '  Completed steps: 2',
      '  Failed steps: 0',
      '  Next step: load-data',
      '  Released by its worker: yes',
    ]);
  });

  it('resume (default threshold) finishes it without re-running finished steps', async () => {
    const r = await h.cli(['resume', runId]);
    expectExit(r, 0);
    expect(r.lines).toContain(`✓ Run ${runId} resumed successfully`);
    expect(r.lines).toContain('ℹ Steps executed: 2');
    const events = await h.events(runId);
    expect(succeededPerStep(events)).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
    expect(ofType(events, 'step.started', 'transform-data')).toHaveLength(1);
    expect(ofType(events, 'run.resumed')[0]?.payload).toMatchObject({ fromStep: 'load-data', inFlight: [] });
    expect((await h.run(runId))?.status).toBe('success');
    expect(
      readFileSync(marker, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(0, 2).join(' ')),
    ).toEqual(['fetch-data 1', 'transform-data 1', 'load-data 1', 'notify 1']);
    expectExit(await h.cli(['verify', runId]), 0);
  });
});
