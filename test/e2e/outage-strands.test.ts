/**
 * A database outage longer than the give-up time under two `orbit worker` processes (issue 20
 * item 3). The workers give their runs up (neither the progress nor the release can be written)
 * and stay alive; once the database is back, each worker writes the releases it owes and the runs
 * are resumed at once, not a threshold (10 minutes here) later. A throwaway cluster of our own is
 * stopped and started (never the shared server); the give-up time is short (a lease of 1 s, a
 * retry budget of 1 s) so the test need not wait out the default 45 s.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { startCluster, type Cluster } from '../../scripts/chaos/cluster';
import { createE2eHarness, expectExit, newE2eRunId, sleep, type CliProcess, type E2eHarness } from '../support/cli';

jest.setTimeout(120_000);

const GIVE_UP = { ORBIT_LEASE: '1s', ORBIT_RETRY_BUDGET_MS: '1000' };

describe('a database outage past the give-up time under two workers', () => {
  let cluster: Cluster;
  let h: E2eHarness;
  let pool: Pool;
  const workers: CliProcess[] = [];
  const opts = (env: Record<string, string> = {}) => ({ databaseUrl: cluster.url, timeoutMs: 100_000, env });

  beforeAll(async () => {
    cluster = await startCluster('orbit-outage-test');
    h = await createE2eHarness('e2e_outage');
    pool = new Pool({ connectionString: cluster.url, max: 2 });
    pool.on('error', () => undefined);
    expectExit(await h.cli(['migrate'], opts()), 0);
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await pool?.end();
    await h?.dispose();
    await cluster?.dispose();
  });

  const count = async (sql: string, ids: readonly string[]): Promise<number> =>
    (await pool.query<{ n: number }>(sql, [ids])).rows[0]?.n ?? -1;

  it('resumes every given-up run within seconds of the database coming back, not after the threshold', async () => {
    for (let i = 0; i < 2; i++) {
      // The default threshold (10 min): only the owed releases can bring the runs back in time.
      const w = h.start(['worker', '--concurrency', '4'], opts(GIVE_UP));
      workers.push(w);
      await h.waitFor('the worker to listen', async () => w.stdout.includes('listening on'), 20_000);
    }
    const ids = Array.from({ length: 6 }, () => newE2eRunId('outage'));
    // Every run waits in transform-data until the database is back (its attempt is aborted when
    // the lease lapses); the resumed attempts go straight through.
    const gate = path.join(os.tmpdir(), `orbit-outage-${process.pid}-${Date.now()}`);
    const meta = { holdUntil: { 'transform-data': gate } };
    const queued = await Promise.all(
      ids.map((id) => h.cli(['run', 'data-pipeline', '--queue', '--run-id', id, '--metadata', JSON.stringify(meta)], opts())),
    );
    for (const q of queued) expectExit(q, 0);
    await h.waitFor(
      'every run to be in transform-data',
      async () =>
        (await count(
          `SELECT count(DISTINCT run_id)::int AS n FROM ${h.qs}.run_events
            WHERE run_id = ANY($1) AND type = 'step.started' AND step_name = 'transform-data'`,
          ids,
        )) === ids.length,
      30_000,
    );
    await cluster.stop();
    // Past the give-up time: the lease (1 s) lapses, the steps are aborted, the release and its
    // fallback each fail after the 1 s retry budget.
    await sleep(8_000);
    const back = Date.now();
    await cluster.start();
    await fs.writeFile(gate, '');
    await h.waitFor(
      'every run to succeed',
      async () =>
        (await count(`SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE id = ANY($1) AND status = 'success'`, ids)) ===
        ids.length,
      60_000,
    );
    const ms = Date.now() - back;
    process.stdout.write(
      `[outage] ${ids.length} runs given up during an 8 s outage finished ${ms} ms after the database came back\n`,
    );
    // Given up during the outage (released afterwards, by the worker that held them), then resumed.
    const released = await pool.query<{ reason: string }>(
      `SELECT payload->>'reason' AS reason FROM ${h.qs}.run_events WHERE run_id = ANY($1) AND type = 'run.released'`,
      [ids],
    );
    expect(released.rows.length).toBeGreaterThanOrEqual(ids.length);
    expect(released.rows.map((r) => r.reason)).toContain('cannot reach the database');
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${h.qs}.run_events WHERE run_id = ANY($1) AND type = 'step.succeeded'
           GROUP BY run_id, step_name HAVING count(*) > 1) x`,
        ids,
      ),
    ).toBe(0);
    // Both workers lived through it.
    for (const w of workers) expect(w.running).toBe(true);
    expect(ms).toBeLessThan(30_000);
  });
});
