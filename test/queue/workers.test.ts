/**
 * Idle workers are visible (issue 20, item 18): every running worker has a registry row it
 * heartbeats itself, busy or idle, so `orbit workers` and `listWorkers` list it with what it can
 * run, what it runs and its concurrency; a worker that stops cleanly leaves the list.
 */
import * as E from 'fp-ts/Either';
import { listWorkers } from '../../src/api/listWorkers';
import { startWorker } from '../../src/api/startWorker';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';
import { createTestClient, type TestClient } from '../support/testClient';

describe('orbit workers lists idle workers', () => {
  let h: E2eHarness;
  let t: TestClient;

  beforeAll(async () => {
    h = await createE2eHarness('q_workers');
    t = await createTestClient({ prefix: 'q_workers_api' });
  });
  afterAll(async () => {
    await t.dispose();
    await h.dispose();
  });

  it('two idle `orbit worker` processes: 2 live, 2 idle, each with its pipelines and concurrency', async () => {
    const workers = [3, 5].map((n) => h.start(['worker', '--concurrency', String(n)], { timeoutMs: 60_000 }));
    for (const w of workers) await h.waitFor('a worker to listen', async () => w.stdout.includes('listening on'), 20_000);
    const r = await h.cli(['workers']);
    expectExit(r, 0);
    expect(r.stdout).toContain('Workers: 2 live (2 idle), 0 with an expired lease');
    expect(r.stdout).toMatch(/Concurrency: 3, running 0/);
    expect(r.stdout).toMatch(/Concurrency: 5, running 0/);
    expect(r.stdout).toMatch(/Pipelines: .*data-pipeline@[0-9a-f]{8}/);
    const json = await h.cli(['workers', '--json']);
    const doc = JSON.parse(json.stdout) as { workers: { kind: string; live: boolean; runs: string[]; leaseUntil: unknown }[] };
    expect(doc.workers.map((w) => [w.kind, w.live, w.runs.length, w.leaseUntil])).toEqual([
      ['worker', true, 0, null],
      ['worker', true, 0, null],
    ]);
    for (const w of workers) w.kill('SIGINT');
    for (const w of workers) expectExit(await w.done, 0);
    const after = await h.cli(['workers']);
    expect(after.stdout).toContain('Workers: 0 live (0 idle), 0 with an expired lease');
  }, 90_000);

  it('listWorkers: an idle startWorker is listed with its pipelines, and leaves the list when stopped', async () => {
    const p = definePipeline({ name: 'q-workers-api', steps: [{ name: 'only', handler: async () => ({ success: true }) }] });
    t.registry.registerPipeline(p);
    const w = await startWorker({ client: t.client, concurrency: 2 });
    if (E.isLeft(w)) throw new Error(w.left._tag);
    const listed = await listWorkers({ client: t.client, liveOnly: true });
    expect(E.isRight(listed) && listed.right).toEqual([
      expect.objectContaining({
        id: t.client.workerId,
        kind: 'worker',
        live: true,
        concurrency: 2,
        running: [],
        leaseUntil: null,
        pipelines: [{ name: 'q-workers-api', definitionHash: p.definitionHash }],
      }),
    ]);
    await w.right.stop();
    const after = await listWorkers({ client: t.client });
    expect(E.isRight(after) && after.right).toEqual([]);
  });
});
