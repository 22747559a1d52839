/**
 * An isolated resume (what `orbit worker` and `orbit recover` do with a run taken over before):
 * a child `orbit resume` reports its result to the parent as a JSON document on a pipe of its
 * own, and the parent maps the error's tag, never its text. The child executes the run under its
 * own lease (it is the owner, so liveness stays exact) and journals the resume as done for the
 * parent, with the parent's reason.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { isolatedResume } from '../../src/cli/commands/resume';
import { resolveSettings } from '../../src/cli/config';
import { createOutput } from '../../src/cli/output';
import type { Session } from '../../src/cli/session';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createRegistry } from '../../src/pipeline/registry';
import type { InterruptedRun } from '../../src/recovery/detectInterruptedRuns';
import type { RecoveryOutcome } from '../../src/recovery/recoveryOutcome';
import { CLI_PATH, createE2eHarness, DATA_PIPELINE_STEPS, FIXTURE_PIPELINES, REPO_ROOT, type E2eHarness } from '../support/cli';
import { ev } from '../support/eventBuilders';
import { deadWorkerId, seedRun } from '../support/recoveryHelpers';
import { openDatabase, closeDatabase, type Database } from '../../src/db/database';

const STEPS = [...DATA_PIPELINE_STEPS];

describe('an isolated resume', () => {
  let h: E2eHarness;
  let client: OrbitClient;
  let db: Database;
  let session: Session;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_isolated');
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry: createRegistry(), env: {}, thresholdMs: 1000 });
    if (E.isLeft(c)) throw new Error(c.left._tag);
    client = c.right;
    const opened = openDatabase({ url: h.url, schema: h.schema, max: 2 });
    if (E.isLeft(opened)) throw new Error(opened.left._tag);
    db = opened.right;
    session = {
      client,
      out: createOutput({ json: false, color: false }),
      args: { json: false, color: false, autoRecover: false },
      settings: resolveSettings({ pipelines: FIXTURE_PIPELINES, schema: h.schema }, {}, undefined, REPO_ROOT),
    };
  });
  afterAll(async () => {
    await client.close();
    await closeDatabase(db);
    await h.dispose();
  });

  const detected = (runId: string, owner: string | null, pipelineId = 'data-pipeline'): InterruptedRun => ({
    runId,
    pipelineId,
    status: 'running',
    startedAt: new Date(0).toISOString(),
    lastActivityAt: new Date(0).toISOString(),
    completedSteps: 0,
    failedSteps: 0,
    nextStep: null,
    readySteps: [],
    nextRetryAt: null,
    owner,
    lastSeq: 0,
    recoveryCount: 1,
    reason: 'stale',
    ownerAlive: false,
  });

  const isolate = (run: InterruptedRun): Promise<RecoveryOutcome> =>
    isolatedResume(session, CLI_PATH)(run, 'interrupted; resumed by a recovery worker');

  const failedTag = (o: RecoveryOutcome): string =>
    o.outcome === 'failed' ? o.error._tag : `${o.outcome}: ${'reason' in o ? o.reason : ''}`;

  it('reports each refusal as its tag', async () => {
    const failedStep = await seedRun(db, {
      pipelineId: 'data-pipeline',
      steps: STEPS,
      events: [ev.started('fetch-data'), ev.failed('fetch-data', 1, { retryable: false })],
    });
    const drifted = await seedRun(db, { pipelineId: 'data-pipeline', steps: ['only-one'], events: [ev.started('only-one')] });
    const unknownPipeline = await seedRun(db, { pipelineId: 'no-such-pipeline', steps: ['x'], events: [ev.started('x')] });
    const outcomes = await Promise.all([
      isolate(detected(failedStep.runId, failedStep.worker)),
      isolate(detected(drifted.runId, drifted.worker)),
      isolate(detected(unknownPipeline.runId, unknownPipeline.worker, 'no-such-pipeline')),
      isolate(detected('no-such-run', deadWorkerId())),
    ]);
    expect(outcomes.map(failedTag)).toEqual(['RunHasFailedSteps', 'PipelineDrift', 'PipelineNotFound', 'RunNotFound']);
    // The message is the parent's own rendering of the tagged error.
    expect(outcomes[3]).toMatchObject({ outcome: 'failed', message: 'Run not found: no-such-run' });
  });

  it('a run another process ended, or whose worker is alive, is skipped, not failed', async () => {
    const done = await seedRun(db, {
      pipelineId: 'data-pipeline',
      steps: STEPS,
      events: STEPS.flatMap((s) => [ev.started(s), ev.succeeded(s)]).concat([ev.runSucceeded()]),
    });
    const cancelled = await seedRun(db, { pipelineId: 'data-pipeline', steps: STEPS, events: [ev.runCancelled()] });
    // A live owner: its lease (on another host) covers the run for an hour.
    const alive = `live-host:4242:${Math.random().toString(16).slice(2, 8)}`;
    const held = await seedRun(db, {
      pipelineId: 'data-pipeline',
      steps: STEPS,
      worker: alive,
      events: [ev.started('fetch-data')],
    });
    await h.pool.query(
      `INSERT INTO ${h.qs}.workers (id, host, pid, lease_until, held) VALUES ($1, 'live-host', 4242, now() + interval '1 hour', $2)`,
      [alive, [held.runId]],
    );
    const outcomes = await Promise.all([
      isolate(detected(done.runId, done.worker)),
      isolate(detected(cancelled.runId, cancelled.worker)),
      isolate(detected(held.runId, alive)),
    ]);
    expect(outcomes.map(failedTag)).toEqual([
      'skipped: ended by another process',
      'skipped: ended by another process',
      `skipped: its worker ${alive} is alive again`,
    ]);
  });

  it('a resume it completes is journaled as done for the parent, with its reason, by the child that holds the lease', async () => {
    const release = path.join(mkdtempSync(path.join(tmpdir(), 'orbit-isolated-')), 'release');
    const crashed = await seedRun(db, {
      pipelineId: 'data-pipeline',
      steps: STEPS,
      metadata: { holdUntil: { 'transform-data': release } },
      events: [ev.started('fetch-data')],
    });
    // Its worker is gone (no lease): silent past the threshold, by the database's clock.
    await h.waitUntilStale([crashed.runId], 1000);
    const resuming = isolate(detected(crashed.runId, crashed.worker));
    // While the child executes, the run is covered by the child's lease, not the parent's: live, not interrupted.
    let holder: string | undefined;
    await h.waitFor('the child to execute the run under its lease', async () => {
      const r = await h.pool.query<{ verdict: string; owner: string | null; holder: string | null }>(
        `SELECT l.verdict, r.owner, w.id AS holder
           FROM ${h.qs}.runs r CROSS JOIN LATERAL ${h.qs}.run_liveness(r, 1000, '{}') l
           LEFT JOIN ${h.qs}.workers w ON r.id = ANY (w.held)
          WHERE r.id = $1`,
        [crashed.runId],
      );
      const row = r.rows[0];
      holder = row?.holder ?? undefined;
      return row?.verdict === 'leased' && row.owner !== null && row.owner === row.holder;
    });
    expect(holder).not.toBe(client.workerId);
    writeFileSync(release, '');
    const o = await resuming;
    expect(o).toMatchObject({ outcome: 'recovered', result: { status: 'success', stepsExecuted: 4 } });
    const resumed = await h.pool.query<{ payload: Record<string, unknown>; writer: string }>(
      `SELECT payload, writer FROM ${h.qs}.run_events WHERE run_id = $1 AND type = 'run.resumed'`,
      [crashed.runId],
    );
    const row = resumed.rows[0];
    expect(row?.payload).toMatchObject({ requestedBy: client.workerId, reason: 'interrupted; resumed by a recovery worker' });
    // The child executed it: it is `by`, the writer, and (while it ran) the owner its lease covered.
    expect(row?.payload.by).toBe(row?.writer);
    expect(row?.payload.by).not.toBe(client.workerId);
    expect(row?.payload.by).toBe(holder);
    const history = await h.cli(['history', crashed.runId]);
    expect(history.lines.find((l) => l.includes('run.resumed'))).toContain(
      `by ${String(row?.payload.by)} for ${client.workerId} from fetch-data (interrupted; resumed by a recovery worker)`,
    );
  });

  it('a child that dies is a failure saying so', async () => {
    const crashed = await seedRun(db, { pipelineId: 'data-pipeline', steps: STEPS, events: [ev.started('fetch-data')] });
    await h.waitUntilStale([crashed.runId], 1000);
    process.env.ORBIT_FAULT_AFTER = 'step.started:transform-data';
    try {
      const o = await isolate(detected(crashed.runId, crashed.worker));
      expect(o).toMatchObject({
        outcome: 'failed',
        error: { _tag: 'RunFailed' },
        message: 'resumed in a process of its own, which died (SIGKILL): a step may be killing its worker',
      });
    } finally {
      delete process.env.ORBIT_FAULT_AFTER;
    }
  });
});
