/**
 * Waiting for an event (issue 19 item 2): events sent before, during and after the wait, a timeout
 * that fails and one that continues, duplicates, a finished or unknown run, a correlation key.
 */
import * as E from 'fp-ts/Either';
import { startWorker } from '../../src/api/startWorker';
import { sendEvent } from '../../src/api/sendEvent';
import { verifyRun } from '../../src/api/verifyRun';
import { cancelRun } from '../../src/api/cancelRun';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { loadRunState } from '../../src/journal/loadRunState';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, type E2eHarness } from '../support/cli';

const ok = (name: string) => ({ name, handler: async () => ({ success: true as const, data: { step: name } }) });
let releaseSlow: () => void = () => undefined;
let slowStarted: () => void = () => undefined;

const pipelines = [
  definePipeline({
    name: 'approval',
    steps: [ok('prepare'), { name: 'approve', waitForEvent: { event: 'approved', timeout: '1h' } }, ok('ship')],
  }),
  definePipeline({
    name: 'approve-then-nap',
    steps: [
      { name: 'approve', waitForEvent: { event: 'approved' } },
      { name: 'nap', sleep: '1h' },
    ],
  }),
  definePipeline({
    name: 'slow-approval',
    steps: [
      {
        name: 'slow',
        handler: async () => {
          slowStarted();
          await new Promise<void>((resolve) => (releaseSlow = resolve));
          return { success: true };
        },
      },
      { name: 'approve', waitForEvent: { event: 'approved' } },
    ],
  }),
  definePipeline({ name: 'gate-fail', steps: [{ name: 'gate', waitForEvent: { event: 'go', timeout: '300ms' } }, ok('after')] }),
  definePipeline({
    name: 'gate-continue',
    steps: [
      { name: 'gate', waitForEvent: { event: 'go', timeout: '300ms', onTimeout: { continueWith: { go: false } } } },
      ok('after'),
    ],
  }),
];

describe('waiting for an event', () => {
  let h: E2eHarness;
  let client: OrbitClient;

  beforeAll(async () => {
    h = await createE2eHarness('q_events');
    const registry = createRegistry();
    for (const p of pipelines) registry.registerPipeline(p);
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
  });
  afterAll(async () => {
    await client.close();
    await h.dispose();
  });

  const enqueue = async (name: string, metadata: Record<string, unknown> = {}) => {
    const q = await enqueueRun(name, metadata, { client });
    if (E.isLeft(q)) throw new Error(formatError(q.left));
    return q.right.runId;
  };
  const status = async (runId: string) => (await h.run(runId))?.status;
  const until = (runId: string, s: string) => h.waitFor(`run ${runId} ${s}`, async () => (await status(runId)) === s, 15_000);
  const state = async (runId: string) => {
    const s = await loadRunState(client.db, runId);
    if (E.isLeft(s)) throw new Error(formatError(s.left));
    return s.right;
  };
  const withWorker = async (f: () => Promise<void>) => {
    const w = await startWorker({ client, concurrency: 4 });
    if (E.isLeft(w)) throw new Error(formatError(w.left));
    try {
      await f();
    } finally {
      await w.right.stop();
    }
  };

  it('an event sent after the run began waiting: taken at once, its data the step data, journaled with its sender, verifiable', async () => {
    await withWorker(async () => {
      const runId = await enqueue('approval');
      await until(runId, 'waiting');
      expect((await h.run(runId))?.owner).toBeNull();
      const sent = await sendEvent(client, runId, 'approved', { by: 'ana' }, { sender: 'ana@example.com' });
      if (E.isLeft(sent)) throw new Error(formatError(sent.left));
      expect(sent.right).toMatchObject({ runId, delivery: 'taken', step: 'approve' });
      await until(runId, 'success');
      const s = await state(runId);
      expect(s.steps.find((x) => x.name === 'approve')?.result).toEqual({ by: 'ana' });
      const received = (await h.events(runId)).find((e) => e.type === 'event.received');
      expect(received?.payload).toMatchObject({
        event: 'approved',
        data: { by: 'ana' },
        sender: 'ana@example.com',
        by: client.workerId,
      });
      const v = await verifyRun(runId, { client });
      if (E.isLeft(v)) throw new Error(formatError(v.left));
      expect(v.right.problems).toEqual([]);
      expect(v.right.verified).toBe(true);
      // The run ended: a clear refusal, nothing journaled.
      const late = await sendEvent(client, runId, 'approved', {});
      expect(E.isLeft(late) && formatError(late.left)).toBe(
        `Event "approved" not delivered to run ${runId}: the run already ended (success)`,
      );
      const unknown = await sendEvent(client, 'no-such-run', 'approved', {});
      expect(E.isLeft(unknown) && unknown.left._tag).toBe('RunNotFound');
    });
  }, 60_000);

  it('an event sent before the run reaches the step is kept and used; a second one is a duplicate', async () => {
    const runId = await enqueue('approval');
    const first = await sendEvent(client, runId, 'approved', { n: 1 });
    if (E.isLeft(first)) throw new Error(formatError(first.left));
    expect(first.right.delivery).toBe('kept');
    const second = await sendEvent(client, runId, 'approved', { n: 2 });
    expect(E.isLeft(second) && formatError(second.left)).toMatch(/already kept for step "approve"; this one is a duplicate/);
    const nobody = await sendEvent(client, runId, 'rejected', {});
    expect(E.isLeft(nobody) && formatError(nobody.left)).toMatch(/no step of pipeline approval waits for it/);
    await withWorker(async () => {
      await until(runId, 'success');
    });
    const s = await state(runId);
    expect(s.steps.find((x) => x.name === 'approve')?.result).toEqual({ n: 1 });
    expect((await h.events(runId)).filter((e) => e.type === 'event.received')).toHaveLength(1);
  }, 60_000);

  it('an event sent while the run executes an earlier step is kept (the executor absorbs it) and used', async () => {
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    await withWorker(async () => {
      const runId = await enqueue('slow-approval');
      await started;
      const sent = await sendEvent(client, runId, 'approved', { during: true });
      if (E.isLeft(sent)) throw new Error(formatError(sent.left));
      expect(sent.right.delivery).toBe('kept');
      releaseSlow();
      await until(runId, 'success');
      const s = await state(runId);
      expect(s.steps.find((x) => x.name === 'approve')?.result).toEqual({ during: true });
      expect(s.recoveryCount).toBe(0);
    });
  }, 60_000);

  it('a duplicate for a step that already took its event is reported, not dropped', async () => {
    await withWorker(async () => {
      const runId = await enqueue('approve-then-nap');
      await until(runId, 'waiting');
      const sent = await sendEvent(client, runId, 'approved', { ok: true });
      if (E.isLeft(sent)) throw new Error(formatError(sent.left));
      await until(runId, 'sleeping');
      const again = await sendEvent(client, runId, 'approved', { ok: true });
      expect(E.isLeft(again) && formatError(again.left)).toBe(
        `Event "approved" not delivered to run ${runId}: step "approve" already received it; this one is a duplicate`,
      );
      const c = await cancelRun(runId, { client });
      expect(E.isRight(c)).toBe(true);
    });
  }, 60_000);

  it('a timeout that fails the run, and one that continues with its default', async () => {
    await withWorker(async () => {
      const failing = await enqueue('gate-fail');
      const going = await enqueue('gate-continue');
      await until(failing, 'failed');
      await until(going, 'success');
      expect((await h.run(failing))?.error).toMatch(/step "gate" failed \(not retryable\): no "go" event arrived by \d{4}-/);
      expect((await state(going)).steps.find((x) => x.name === 'gate')?.result).toEqual({ go: false });
    });
  }, 60_000);

  it('a correlation key: the one unfinished run whose metadata contains it; none or several is a clear error', async () => {
    await withWorker(async () => {
      const runId = await enqueue('approval', { orderId: 'o-42' });
      await until(runId, 'waiting');
      const none = await sendEvent(client, { key: { orderId: 'o-0' } }, 'approved', {});
      expect(E.isLeft(none) && formatError(none.left)).toBe(
        'Event "approved" not delivered: no unfinished run has metadata containing {"orderId":"o-0"}',
      );
      const sent = await sendEvent(client, { key: { orderId: 'o-42' }, pipeline: 'approval' }, 'approved', { by: 'key' });
      if (E.isLeft(sent)) throw new Error(formatError(sent.left));
      expect(sent.right.runId).toBe(runId);
      await until(runId, 'success');
    });
  }, 60_000);
});
