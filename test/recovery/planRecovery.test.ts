import { planRecovery } from '../../src/recovery/planRecovery';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import { countEvents, seedRun, stillBrokenPipeline, waitUntilSilent } from '../support/recoveryHelpers';
import { ev } from '../support/eventBuilders';

/*
 * planRecovery is `orbit recover --dry-run` as a library function: every interrupted run and what
 * a resume would do with it (planResume, decideNext), with nothing claimed or written.
 */

const THRESHOLD_MS = 300;
let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'plan', thresholdMs: THRESHOLD_MS });
});
afterAll(async () => tc.dispose());

it('says where each interrupted run would resume, what it would append, and writes nothing', async () => {
  const ok = () => ({ success: true as const });
  tc.registry.registerPipeline(
    definePipeline({ name: 'plan-etl', steps: ['extract', 'transform', 'load'].map((name) => ({ name, handler: ok })) }),
  );
  tc.registry.registerPipeline(stillBrokenPipeline('plan-broken'));
  const db = tc.client.db;
  const inFlight = await seedRun(db, {
    pipelineId: 'plan-etl',
    steps: ['extract', 'transform', 'load'],
    events: [ev.started('extract'), ev.succeeded('extract'), ev.started('transform')],
  });
  const broken = await seedRun(db, {
    pipelineId: 'plan-broken',
    steps: ['a', 'b'],
    events: [ev.started('a'), ev.succeeded('a'), ev.started('b'), ev.failed('b', 1, { retryable: false })],
  });
  await waitUntilSilent(db, THRESHOLD_MS, [inFlight.runId, broken.runId]);

  const plan = expectRight(await planRecovery(tc.client));

  expect(plan.find((p) => p.runId === inFlight.runId)).toEqual({
    runId: inFlight.runId,
    pipelineId: 'plan-etl',
    refusal: null,
    fromStep: 'transform',
    readySteps: ['transform'],
    reExecuted: ['transform'],
    retrying: [],
    wouldAppend: ['run.resumed', 'step.started'],
  });
  expect(plan.find((p) => p.runId === broken.runId)).toMatchObject({
    refusal: 'Run has 1 failed step(s), cannot auto-resume',
    wouldAppend: [],
  });
  // A plan, not a resume: both journals are as they were.
  expect(await countEvents(db, inFlight.runId)).toBe(5);
  expect(await countEvents(db, broken.runId)).toBe(6);
});
