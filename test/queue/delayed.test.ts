/**
 * Delayed runs (issue 19 item 4): `enqueueRun(…, { runAt | delayMs })` and `orbit run --queue --at`.
 * A worker with no sweep interval does not start them before their time (database clock) and
 * starts them within a second after it, woken by its deadline timer: no polling in between.
 */
import * as E from 'fp-ts/Either';
import { startWorker, type WorkerEvent } from '../../src/api/startWorker';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';

const later = definePipeline({ name: 'later', steps: [{ name: 'only', handler: async () => ({ success: true }) }] });

describe('delayed runs', () => {
  let h: E2eHarness;
  let client: OrbitClient;

  beforeAll(async () => {
    h = await createE2eHarness('q_delayed');
    const registry = createRegistry();
    registry.registerPipeline(later);
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    client = c.right;
  });
  afterAll(async () => {
    await client.close();
    await h.dispose();
  });

  it('runAt and delayMs: claimed after their time (database clock), within a second, with no polling meanwhile', async () => {
    const events: WorkerEvent[] = [];
    const w = await startWorker({ client, concurrency: 2, onEvent: (e) => events.push(e) });
    if (E.isLeft(w)) throw new Error(formatError(w.left));
    try {
      const now = (await h.pool.query<{ now: Date }>('SELECT now()')).rows[0]?.now as Date;
      const byDelay = await enqueueRun('later', {}, { client, delayMs: 2000 });
      const byTime = await enqueueRun('later', {}, { client, runAt: new Date(now.getTime() + 3000) });
      const atOnce = await enqueueRun('later', {}, { client });
      if (E.isLeft(byDelay) || E.isLeft(byTime) || E.isLeft(atOnce)) throw new Error('enqueue failed');
      const ids = [byDelay.right.runId, byTime.right.runId, atOnce.right.runId];
      await h.waitFor(
        'the three runs to succeed',
        async () =>
          (
            await h.pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE status = 'success' AND id = ANY ($1)`,
              [ids],
            )
          ).rows[0]?.n === 3,
        15_000,
      );
      const lateness = await h.pool.query<{ id: string; late_ms: number }>(
        `SELECT c.run_id AS id, extract(epoch FROM c.occurred_at - d.run_at) * 1000 AS late_ms
           FROM ${h.qs}.run_events c JOIN ${h.qs}.delayed_runs d ON d.run_id = c.run_id
          WHERE c.type = 'run.claimed'`,
      );
      const late = new Map(lateness.rows.map((r) => [r.id, Number(r.late_ms)]));
      process.stdout.write(`claimed after their time by: ${[...late.values()].map((ms) => `${ms.toFixed(0)} ms`).join(', ')}\n`);
      for (const id of [byDelay.right.runId, byTime.right.runId]) {
        expect(late.get(id)).toBeGreaterThanOrEqual(0);
        expect(late.get(id)).toBeLessThan(1000);
      }
      // One round per NOTIFY and per wake-up: a handful, not a poll every few ms over 3 s.
      expect(events.filter((e) => e.kind === 'claim-round').length).toBeLessThanOrEqual(8);
    } finally {
      await w.right.stop();
    }
  }, 60_000);

  it('orbit run --queue --at: a duration or an ISO time; bad values and --at without --queue are usage errors', async () => {
    const r = await h.cli(['run', 'data-pipeline', '--queue', '--at', '90s']);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/Queued run \S+ \(data-pipeline\) due in 90s/);
    const iso = await h.cli(['run', 'data-pipeline', '--queue', '--at', '2030-01-01T00:00:00Z']);
    expectExit(iso, 0);
    expect(iso.stdout).toContain('due at 2030-01-01T00:00:00.000Z');
    const due = await h.pool.query<{ s: number }>(
      `SELECT extract(epoch FROM run_at - now())::float8 AS s FROM ${h.qs}.delayed_runs WHERE run_at > now() ORDER BY run_at LIMIT 1`,
    );
    expect(due.rows[0]?.s).toBeGreaterThan(80);
    const before = (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.runs`)).rows[0]?.n;
    for (const args of [
      ['run', 'data-pipeline', '--queue', '--at', 'tomorrow'],
      ['run', 'data-pipeline', '--queue', '--at', '2030-01-01'],
      ['run', 'data-pipeline', '--at', '10s'],
    ]) {
      const bad = await h.cli(args);
      expectExit(bad, 2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.runs`)).rows[0]?.n).toBe(before);
  }, 60_000);
});
