/**
 * A run whose owner is alive but no longer executes it — what a failover to a replica that missed
 * the run's last transitions leaves behind (the owner finished or gave up the run in a history the
 * new primary lacks) — is taken over in the worker's own process, not in an isolated child. The
 * child is for runs that may have killed their worker; after an asynchronous failover every run in
 * flight looked like one, and a process start per run per recovering worker starved a 2-core machine
 * for minutes (chaos R10: "Sweep: 50 interrupted, 0 being recovered"). A run whose owner is gone is
 * still isolated.
 */
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { runPipeline } from '../../src/executor/runPipeline';
import { appendEvents } from '../../src/journal/appendEvents';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { detectInterruptedRuns } from '../../src/recovery/detectInterruptedRuns';
import type { InterruptedRun } from '../../src/recovery/detectInterruptedRuns';
import type { RecoveryOutcome } from '../../src/recovery/recoveryOutcome';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { Worker } from '../../src/worker/worker';
import { createTestClient, type TestClient } from '../support/testClient';
import { waitFor } from '../support/waitFor';

const THRESHOLD_MS = 300;
const quick = { handler: async () => ({ success: true }) as const };
const two = definePipeline({
  name: 'live-owner-two',
  steps: [
    { name: 'a', ...quick },
    { name: 'b', ...quick },
  ],
});
let release: () => void = () => undefined;
const released = new Promise<void>((r) => (release = r));
const held = definePipeline({
  name: 'live-owner-held',
  steps: [{ name: 'wait', handler: async () => (await released, { success: true }) }],
});

let tc: TestClient;
let other: OrbitClient;

beforeAll(async () => {
  tc = await createTestClient({ prefix: 'liveowner', thresholdMs: THRESHOLD_MS });
  tc.registry.registerPipeline(two);
  tc.registry.registerPipeline(held);
  other = await tc.peer({ thresholdMs: THRESHOLD_MS });
});

afterAll(async () => {
  release();
  await tc?.dispose();
});

/** A queued run that `owner` claimed and then stopped writing to (its journal says it holds it). */
const ownedBy = async (owner: string): Promise<string> => {
  const q = await enqueueRun(two.name, {}, { client: tc.client });
  if (E.isLeft(q)) throw new Error(formatError(q.left));
  const c = await appendEvents(tc.client.db, q.right.runId, 1, [{ type: 'run.claimed', payload: { worker: owner } }], owner);
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  return q.right.runId;
};

const events = async (runId: string) =>
  (
    await tc.client.db.pool.query<{ type: string; writer: string; payload: Record<string, unknown> }>(
      `SELECT type, writer, payload FROM ${tc.client.db.qs}.run_events WHERE run_id = $1 ORDER BY seq`,
      [runId],
    )
  ).rows;

it('resumes in-process the runs of a live owner (itself, another live process) and isolates the run of a gone one', async () => {
  // Another process that lives: its lease is renewed (it executes a run of its own) without the run it claimed.
  const busy = runPipeline(held.name, {}, { client: other });
  await waitFor(
    async () =>
      (
        await tc.client.db.pool.query(`SELECT 1 FROM ${tc.client.db.qs}.workers WHERE id = $1 AND lease_until > now()`, [
          other.workerId,
        ])
      ).rowCount === 1,
    { what: "the other process's lease" },
  );
  const mine = await ownedBy(tc.client.workerId);
  const othersRun = await ownedBy(other.workerId);
  const ghosts = await ownedBy('elsewhere:4242:0badc0');
  // Past the threshold, every one of them is interrupted; only the other process is seen alive by
  // the database (this worker's own runs it recognises by its id).
  const seen = await waitFor(
    async () => {
      const d = await detectInterruptedRuns(tc.client, { thresholdMs: THRESHOLD_MS });
      if (E.isLeft(d)) throw new Error(formatError(d.left));
      return d.right.length === 3 ? d.right : undefined;
    },
    { what: 'three interrupted runs' },
  );
  const alive = Object.fromEntries(seen.map((r) => [r.runId, r.ownerAlive]));
  expect(alive).toEqual({ [mine]: false, [othersRun]: true, [ghosts]: false });

  const isolated: string[] = [];
  const worker = new Worker({
    client: tc.client,
    concurrency: 4,
    thresholdMs: THRESHOLD_MS,
    isolate: async (run: InterruptedRun): Promise<RecoveryOutcome> => {
      isolated.push(run.runId);
      return { runId: run.runId, pipelineId: run.pipelineId, outcome: 'skipped', reason: 'isolated (test)' };
    },
  });
  const started = await worker.start();
  if (E.isLeft(started)) throw new Error(formatError(started.left));
  try {
    for (const runId of [mine, othersRun]) {
      await waitFor(async () => (await events(runId)).some((e) => e.type === 'run.succeeded'), { what: `${runId} to succeed` });
      // Taken over by the worker itself: no child process, no `requestedBy`.
      const resumed = (await events(runId)).filter((e) => e.type === 'run.resumed');
      expect(resumed.map((e) => [e.writer, e.payload.requestedBy])).toEqual([[tc.client.workerId, undefined]]);
    }
    await waitFor(() => isolated.includes(ghosts), { what: 'the gone owner’s run to be isolated' });
    expect([...new Set(isolated)]).toEqual([ghosts]);
  } finally {
    await worker.stop();
    release();
    await busy;
  }
});
