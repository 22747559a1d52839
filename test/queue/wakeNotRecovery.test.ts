/**
 * A wake-up is not a recovery: a sleeping run whose sleep ends and a waiting run whose event comes
 * are claimed again with `run.resumed`, but nothing was interrupted, so `orbit stats` and the
 * dashboard's recovery history leave them out. A woken run that then dies and is recovered still
 * counts once.
 */
import * as E from 'fp-ts/Either';
import { sendEvent } from '../../src/api/sendEvent';
import { startWorker } from '../../src/api/startWorker';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { recoveryHistory } from '../../src/recovery/recoveryHistory';
import { recoveryStats } from '../../src/recovery/recoveryStats';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, ofType, type E2eHarness } from '../support/cli';

const ok = (name: string) => ({ name, handler: async () => ({ success: true as const }) });

describe('recovery metrics leave wake-ups out', () => {
  let h: E2eHarness;
  let client: OrbitClient;

  beforeAll(async () => {
    h = await createE2eHarness('q_wake_stats');
    const registry = createRegistry();
    registry.registerPipeline(
      definePipeline({ name: 'nap', steps: [ok('before'), { name: 'nap', sleep: '300ms' }, ok('after')] }),
    );
    registry.registerPipeline(
      definePipeline({ name: 'gate', steps: [ok('before'), { name: 'gate', waitForEvent: { event: 'go' } }, ok('after')] }),
    );
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
  });
  afterAll(async () => {
    await client.close();
    await h.dispose();
  });

  const right = <T>(r: E.Either<unknown, T>): T => {
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
    return r.right;
  };

  it('counts neither a sleep that ended nor an event that came, though both were resumed', async () => {
    const worker = right(await startWorker({ client }));
    try {
      const nap = right(await enqueueRun('nap', {}, { client })).runId;
      const gate = right(await enqueueRun('gate', {}, { client })).runId;
      await h.waitFor('the gate to wait', async () => (await h.run(gate))?.status === 'waiting');
      right(await sendEvent(client, gate, 'go', { ok: true }, { sender: 'test' }));
      await h.waitFor(
        'both runs to succeed',
        async () => (await h.run(nap))?.status === 'success' && (await h.run(gate))?.status === 'success',
        30_000,
      );
      // Both were claimed again after their suspension: the journal says so.
      expect(ofType(await h.events(nap), 'run.resumed')).toHaveLength(1);
      expect(ofType(await h.events(gate), 'run.resumed')).toHaveLength(1);
    } finally {
      await worker.stop();
    }
    const stats = right(await recoveryStats(client));
    expect(stats).toMatchObject({ recoveries: 0, runsRecovered: 0, interruptedTotal: 0 });
    const history = right(await recoveryHistory(client.db, 3_600_000, 1));
    expect(history).toEqual([expect.objectContaining({ interrupted: 0, recoveries: 0 })]);
  });
});
