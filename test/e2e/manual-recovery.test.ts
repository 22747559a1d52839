/**
 * The spec's "Manual testing" (RECOVERY.md), done by real processes: start a pipeline, kill -9 it
 * mid-step, `orbit check-interrupted`, `orbit resume <runId>`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createE2eHarness,
  DATA_PIPELINE_STEPS,
  describeResult,
  expectExit,
  ofType,
  succeededPerStep,
  type E2eHarness,
  type EventRow,
} from '../support/cli';

const THRESHOLD = ['--threshold', '1s'];

/** transform-data has started (attempt 1) and nothing after it is journaled yet. */
const transformStarted = (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'transform-data').length > 0;

describe('manual recovery: kill -9 during a step, check-interrupted, resume', () => {
  let h: E2eHarness;
  let dir: string;
  let marker: string;
  let runId: string;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_manual');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-manual-'));
    marker = path.join(dir, 'marker.txt');
  });

  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a run killed with SIGKILL while transform-data sleeps ends its journal in that step.started, still "running"', async () => {
    // The step holds until a file exists, so it is still running when the process is killed however
    // slow the machine; the file is made right after, so the resume below does not hold.
    // Killed once the handler is inside its hold (it writes its marker line first), not merely once
    // step.started is journaled: the handler's first attempt must have begun for the marks below.
    const release = path.join(dir, 'release-transform');
    const killed = await h.startRunAndKillWhen(
      'data-pipeline',
      { holdUntil: { 'transform-data': release }, marker },
      (ev) => transformStarted(ev) && existsSync(marker) && readFileSync(marker, 'utf8').includes('transform-data 1 '),
    );
    runId = killed.runId;
    expect(killed.result.signal).toBe('SIGKILL');
    writeFileSync(release, '');

    const events = await h.events(runId);
    expect(events.map((e) => e.type)).toEqual(['run.created', 'run.claimed', 'step.started', 'step.succeeded', 'step.started']);
    const last = events[events.length - 1] as EventRow;
    expect([last.type, last.step_name, last.attempt]).toEqual(['step.started', 'transform-data', 1]);
    expect(ofType(events, 'step.succeeded', 'transform-data')).toHaveLength(0);
    expect(ofType(events, 'step.failed', 'transform-data')).toHaveLength(0);

    const run = await h.run(runId);
    expect(run?.status).toBe('running');
    expect(run?.owner).not.toBeNull();
    const steps = await h.steps(runId);
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ['fetch-data', 'success'],
      ['transform-data', 'running'],
      ['load-data', 'pending'],
      ['notify', 'pending'],
    ]);
  });

  it('check-interrupted with the default 10 m threshold lists it at once: its process is provably gone', async () => {
    const r = await h.cli(['check-interrupted']);
    expectExit(r, 0);
    expect(r.lines).toContain(`Run ID: ${runId}`);
  });

  it("check-interrupted --threshold 1s lists it with the spec's lines: 1 completed, 0 failed, next transform-data", async () => {
    await h.waitUntilStale([runId], 1000);
    const r = await h.cli(['check-interrupted', ...THRESHOLD]);
    expectExit(r, 0);
    expect(r.stderr).toBe('');
    const at = r.lines.indexOf(`Run ID: ${runId}`);
    expect(at).toBeGreaterThan(0);
    expect(r.lines.slice(0, 4)).toEqual(['Checking for Interrupted Runs', '', 'Found 1 interrupted run(s):', '']);
    const block = r.lines.slice(at, at + 8);
    expect(block[0]).toBe(`Run ID: ${runId}`);
    expect(block[1]).toBe('  Pipeline: data-pipeline');
    expect(block[2]).toMatch(/^ {2}Started: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(block[3]).toMatch(/^ {2}Last activity: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(block.slice(4, 7)).toEqual(['  Completed steps: 1', '  Failed steps: 0', '  Next step: transform-data']);
    expect(r.lines).toContain('To resume a specific run, use: orbit resume <runId>');
    expect(r.lines).toContain('To auto-resume all runs, use: orbit recover --auto-resume');
    // Detection changes nothing.
    expect((await h.events(runId)).length).toBe(5);
  });

  it('check-interrupted --json prints one JSON document with the same facts', async () => {
    const r = await h.cli(['check-interrupted', ...THRESHOLD, '--json']);
    expectExit(r, 0);
    const doc = JSON.parse(r.stdout) as { thresholdMs: number; interrupted: Array<Record<string, unknown>> };
    expect(doc.thresholdMs).toBe(1000);
    expect(doc.interrupted).toHaveLength(1);
    expect(doc.interrupted[0]).toMatchObject({
      runId,
      pipelineId: 'data-pipeline',
      completedSteps: 1,
      failedSteps: 0,
      nextStep: 'transform-data',
      nextRetryAt: null,
      lastSeq: 5,
    });
  });

  it("resume <runId> prints the spec's lines, exits 0 and re-runs only the in-flight step and the ones after it", async () => {
    // Word for word from the spec: no flags.
    const r = await h.cli(['resume', runId]);
    expectExit(r, 0);
    expect(r.lines).toEqual(
      expect.arrayContaining([`Resuming Run: ${runId}`, `✓ Run ${runId} resumed successfully`, 'ℹ Steps executed: 3']),
    );
    expect(r.lines[0]).toBe(`Resuming Run: ${runId}`);
    expect(r.lines.indexOf(`✓ Run ${runId} resumed successfully`)).toBeLessThan(r.lines.indexOf('ℹ Steps executed: 3'));

    const events = await h.events(runId);
    expect(succeededPerStep(events)).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
    expect(ofType(events, 'step.started', 'transform-data').map((e) => e.attempt)).toEqual([1, 2]);
    expect(ofType(events, 'step.started', 'fetch-data').map((e) => e.attempt)).toEqual([1]);
    expect(ofType(events, 'run.resumed')).toHaveLength(1);
    expect(ofType(events, 'run.resumed')[0]?.payload).toMatchObject({ fromStep: 'transform-data', inFlight: ['transform-data'] });
    expect(events[events.length - 1]?.type).toBe('run.succeeded');
    expect((await h.run(runId))?.status).toBe('success');

    // The handler ran twice for transform-data (attempt 1 killed, attempt 2 finished) with one key.
    const marks = readFileSync(marker, 'utf8').trim().split('\n');
    expect(marks).toEqual([
      `fetch-data 1 ${runId}:fetch-data`,
      `transform-data 1 ${runId}:transform-data`,
      `transform-data 2 ${runId}:transform-data`,
      `load-data 1 ${runId}:load-data`,
      `notify 1 ${runId}:notify`,
    ]);
  });

  it('after the resume check-interrupted finds nothing and verify passes', async () => {
    const check = await h.cli(['check-interrupted', ...THRESHOLD]);
    expectExit(check, 0);
    expect(check.lines).toContain('✓ No interrupted runs found');
    const verify = await h.cli(['verify', runId]);
    expectExit(verify, 0);
  });

  it('resume --json of another killed run prints one JSON document on stdout', async () => {
    const killed = await h.startRunAndKillWhen('data-pipeline', { sleepMs: { 'transform-data': 500 } }, transformStarted);
    expect(killed.result.signal).toBe('SIGKILL');
    await h.waitUntilStale([killed.runId], 1000);
    const r = await h.cli(['resume', killed.runId, ...THRESHOLD, '--json']);
    expectExit(r, 0);
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`stdout is not one JSON document (${String(err)})\n${describeResult(r)}`);
    }
    expect(doc).toMatchObject({
      runId: killed.runId,
      pipelineId: 'data-pipeline',
      status: 'success',
      stepsExecuted: 3,
      resumedFrom: 'transform-data',
      reExecutedInFlight: ['transform-data'],
      released: false,
      error: null,
    });
    expect(succeededPerStep(await h.events(killed.runId))).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
  });
});
