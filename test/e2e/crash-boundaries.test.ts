/**
 * Crashes at each journal boundary (ORBIT_FAULT_AFTER makes `orbit run` SIGKILL itself right after
 * committing the named event), then `orbit recover --auto-resume` finishes the run: every step
 * succeeded exactly once, the hash chain and the projections still agree.
 */
import {
  createE2eHarness,
  DATA_PIPELINE_STEPS,
  expectExit,
  newE2eRunId,
  ofType,
  succeededPerStep,
  type CliResult,
  type E2eHarness,
  type EventRow,
} from '../support/cli';

const THRESHOLD = ['--threshold', '1s'];
const ONCE_EACH = Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1]));

describe('crash at a journal boundary, then recover --auto-resume', () => {
  let h: E2eHarness;
  const runIds: string[] = [];

  beforeAll(async () => {
    h = await createE2eHarness('e2e_crash');
  });
  afterAll(async () => {
    await h.dispose();
  });

  /** Runs data-pipeline until the fault point kills it; returns its id and journal at death. */
  const crashAt = async (fault: string, metadata: unknown = {}): Promise<{ runId: string; before: EventRow[] }> => {
    const runId = newE2eRunId('crash');
    runIds.push(runId);
    const r = await h.cli(['run', 'data-pipeline', '--run-id', runId, '--metadata', JSON.stringify(metadata)], {
      env: { ORBIT_FAULT_AFTER: fault },
    });
    if (r.signal !== 'SIGKILL')
      throw new Error(`expected orbit run to die of SIGKILL at ${fault}; exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    const before = await h.events(runId);
    expect((await h.run(runId))?.status).toBe('running');
    return { runId, before };
  };

  /** Waits for the threshold, recovers, and checks the spec's output for exactly this one run. */
  const recover = async (runId: string, stepsExecuted: number): Promise<CliResult> => {
    await h.waitUntilStale([runId], 1000);
    const r = await h.cli(['recover', '--auto-resume', ...THRESHOLD]);
    expectExit(r, 0);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'Run Recovery',
        'Scanning for interrupted runs...',
        `Attempting to recover run ${runId} (data-pipeline)...`,
        `✓ Recovered run ${runId}, executed ${stepsExecuted} step(s)`,
        'Recovery Summary:',
        '  Detected: 1',
        '  Recovered: 1',
        '  Failed: 0',
        'All interrupted runs recovered successfully',
      ]),
    );
    return r;
  };

  /** The end state every recovered run must reach. */
  const expectCompletedOnce = async (runId: string): Promise<EventRow[]> => {
    const events = await h.events(runId);
    expect((await h.run(runId))?.status).toBe('success');
    expect(succeededPerStep(events)).toEqual(ONCE_EACH);
    expect(ofType(events, 'run.resumed')).toHaveLength(1);
    expect(ofType(events, 'run.succeeded')).toHaveLength(1);
    expect(events[events.length - 1]?.type).toBe('run.succeeded');
    // Attempts of each step count 1, 2, 3 … across the crash.
    for (const s of DATA_PIPELINE_STEPS) {
      const attempts = ofType(events, 'step.started', s).map((e) => e.attempt);
      expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    }
    const verify = await h.cli(['verify', runId]);
    expectExit(verify, 0);
    return events;
  };

  it('after step.started:transform-data the in-flight step runs again as attempt 2 and the run succeeds', async () => {
    const { runId, before } = await crashAt('step.started:transform-data');
    expect(before[before.length - 1]).toMatchObject({ type: 'step.started', step_name: 'transform-data', attempt: 1 });
    await recover(runId, 3);
    const events = await expectCompletedOnce(runId);
    expect(ofType(events, 'step.started', 'transform-data').map((e) => e.attempt)).toEqual([1, 2]);
    expect(ofType(events, 'run.resumed')[0]?.payload).toMatchObject({ fromStep: 'transform-data', inFlight: ['transform-data'] });
  });

  it('after step.succeeded:fetch-data fetch-data is not executed again', async () => {
    const { runId, before } = await crashAt('step.succeeded:fetch-data');
    expect(ofType(before, 'step.succeeded', 'fetch-data')).toHaveLength(1);
    await recover(runId, 3);
    const events = await expectCompletedOnce(runId);
    expect(ofType(events, 'step.started', 'fetch-data').map((e) => e.attempt)).toEqual([1]);
    const resumedAt = ofType(events, 'run.resumed')[0]?.seq as number;
    expect(events.filter((e) => e.seq > resumedAt && e.step_name === 'fetch-data')).toEqual([]);
  });

  it('during a retry wait (step.retry_scheduled:transform-data) the next attempt is 2 and starts no earlier than nextRetryAt', async () => {
    const { runId, before } = await crashAt('step.retry_scheduled:transform-data', { fail: { 'transform-data': 1 } });
    const scheduled = ofType(before, 'step.retry_scheduled', 'transform-data');
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.attempt).toBe(1);
    const steps = await h.steps(runId);
    const transform = steps.find((s) => s.name === 'transform-data');
    expect(transform?.status).toBe('retrying');
    expect(transform?.next_retry_at).toBeInstanceOf(Date);
    const nextRetryAt = (transform?.next_retry_at as Date).getTime();
    const delayMs = (scheduled[0]?.payload as { delayMs: number }).delayMs;
    expect(nextRetryAt).toBe((scheduled[0]?.occurred_at as Date).getTime() + delayMs);

    // The dry run reports the retry wait without claiming anything.
    await h.waitUntilStale([runId], 1000);
    const dry = await h.cli(['recover', '--dry-run', ...THRESHOLD, '--json']);
    expectExit(dry, 0);
    const plan = (
      JSON.parse(dry.stdout) as { plan: Array<{ runId: string; retrying: Array<{ name: string; nextAttempt: number }> }> }
    ).plan;
    expect(plan.find((p) => p.runId === runId)?.retrying).toEqual([
      expect.objectContaining({ name: 'transform-data', nextAttempt: 2 }),
    ]);
    expect((await h.events(runId)).length).toBe(before.length);

    await recover(runId, 3);
    const events = await expectCompletedOnce(runId);
    const starts = ofType(events, 'step.started', 'transform-data');
    expect(starts.map((e) => e.attempt)).toEqual([1, 2]);
    expect((starts[1]?.occurred_at as Date).getTime()).toBeGreaterThanOrEqual(nextRetryAt);
    expect(ofType(events, 'step.failed', 'transform-data').map((e) => e.attempt)).toEqual([1]);
  });

  it('after run.claimed (committed with the first step.started) the run is recovered from fetch-data', async () => {
    const { runId, before } = await crashAt('run.claimed');
    expect(before.map((e) => e.type).slice(0, 2)).toEqual(['run.created', 'run.claimed']);
    expect(ofType(before, 'step.succeeded')).toHaveLength(0);
    await recover(runId, 4);
    const events = await expectCompletedOnce(runId);
    expect(ofType(events, 'run.resumed')[0]?.payload).toMatchObject({ fromStep: 'fetch-data' });
  });

  it('verify passes over every recovered run and nothing is left interrupted', async () => {
    const verify = await h.cli(['verify']);
    expectExit(verify, 0);
    expect(verify.lines).toContain(`✓ Journal and projections verified (${runIds.length} run(s))`);
    const check = await h.cli(['check-interrupted', ...THRESHOLD]);
    expectExit(check, 0);
    expect(check.lines).toContain('✓ No interrupted runs found');
  });
});
