/**
 * What an idle worker sends to the database. Once its last run has ended it has nothing to wake
 * for: besides its lease renewal and registry heartbeat (one small upsert each per third of a
 * lease), it sends nothing, however long it idles. And a NOTIFY that names a run (a lease taken
 * elsewhere) costs it one look-up of that run's deadlines by id, not a re-read of every
 * deadline over every unfinished run.
 */
import * as E from 'fp-ts/Either';
import { startWorker, type WorkerHandle } from '../../src/api/startWorker';
import { enqueueRun } from '../../src/executor/queue';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createTestClient, type TestClient } from '../support/testClient';
import { waitFor } from '../support/waitFor';

interface Sent {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** Heartbeats any live process sends whatever it does: its lease row and its registry row. */
const HEARTBEAT = /INTO \S+\.(?:workers|worker_registry) AS w\b/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestClient;
let worker: WorkerHandle;
const sent: Sent[] = [];

beforeAll(async () => {
  t = await createTestClient({ prefix: 'q_idle' });
  t.registry.registerPipeline(
    definePipeline({ name: 'q-idle', steps: [{ name: 'only', handler: async () => ({ success: true }) }] }),
  );
  const pool = t.client.db.pool as unknown as { query: (...args: unknown[]) => unknown };
  const original = pool.query.bind(pool);
  pool.query = (...args: unknown[]) => {
    const a = args[0];
    const q =
      typeof a === 'string'
        ? { text: a, values: (args[1] as unknown[] | undefined) ?? [] }
        : (a as { text: string; values?: unknown[] });
    if (!HEARTBEAT.test(q.text)) sent.push({ text: q.text.replace(/\s+/g, ' '), values: q.values ?? [] });
    return original(...args);
  };
  const w = await startWorker({ client: t.client, concurrency: 2 });
  if (E.isLeft(w)) throw new Error(w.left._tag);
  worker = w.right;
});
afterAll(async () => {
  await worker.stop();
  await t.dispose();
});

const runStatus = async (runId: string): Promise<string | undefined> =>
  (await t.client.db.pool.query<{ status: string }>(`SELECT status FROM ${t.client.db.qs}.runs WHERE id = $1`, [runId])).rows[0]
    ?.status;

describe('an idle worker', () => {
  it('sends nothing but its heartbeats for 10 s after its last run ended', async () => {
    const queued = await enqueueRun('q-idle', {}, { client: t.client });
    if (E.isLeft(queued)) throw new Error(queued.left._tag);
    const runId = queued.right.runId;
    await waitFor(async () => (await runStatus(runId)) === 'success', { what: 'the run to succeed', timeoutMs: 30_000 });
    // What the run set off settles: the lease dropping it, the stranded-runs check 2 s after a queued run.
    await sleep(3_000);
    sent.length = 0;
    await sleep(10_000);
    // Before: about 6 s after the run, a wake-up armed for the worker's own lease (a same-host
    // owner's next renewal: its own) swept and claimed, a scan of every unfinished run for nothing.
    expect(sent.map((s) => s.text.slice(0, 80))).toEqual([]);
  }, 60_000);

  it('a lease taken elsewhere costs it one look-up of that run by id', async () => {
    sent.length = 0;
    const { pool, channel } = t.client.db;
    await pool.query(`SELECT pg_notify($1, $2)`, [
      channel,
      JSON.stringify({ run_id: 'elsewhere-1', seq: 0, type: 'lease.taken' }),
    ]);
    await pool.query(`SELECT pg_notify($1, $2)`, [
      channel,
      JSON.stringify({ run_id: 'elsewhere-2', seq: 0, type: 'lease.taken' }),
    ]);
    await sleep(1_500);
    const own = sent.filter((s) => !s.text.includes('pg_notify'));
    // Before: three statements per notification (debounced), among them run_liveness over every unfinished run.
    expect(own).toHaveLength(1);
    expect(own[0]?.values[0]).toEqual(['elsewhere-1', 'elsewhere-2']);
  }, 30_000);
});
