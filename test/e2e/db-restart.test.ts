/**
 * PostgreSQL restarts under running `orbit run` processes (a throwaway cluster of our own, never
 * the shared server). Transient failures — the dropped connection (57P01), "the database system is
 * starting up" (57P03), connection refused — are ridden out within the retry budget; past it the
 * process exits 1 with one line that says how to resume the run, and `orbit resume` does.
 */
import { Pool } from 'pg';
import { startCluster, type Cluster } from '../../scripts/chaos/cluster';
import { createE2eHarness, describeResult, expectExit, newE2eRunId, sleep, type E2eHarness } from '../support/cli';

jest.setTimeout(180_000);

describe('a PostgreSQL restart while runs execute', () => {
  let cluster: Cluster;
  let h: E2eHarness;
  let pool: Pool;
  const opts = () => ({ databaseUrl: cluster.url, timeoutMs: 120_000 });

  beforeAll(async () => {
    cluster = await startCluster('orbit-restart-test');
    h = await createE2eHarness('e2e_restart');
    pool = new Pool({ connectionString: cluster.url, max: 2 });
    pool.on('error', () => undefined);
    // Migrate once up front, so the runs below race only the restart.
    expectExit(await h.cli(['migrate'], opts()), 0);
  });

  afterAll(async () => {
    await pool?.end();
    await h?.dispose();
    await cluster?.dispose();
  });

  const statusOf = async (runId: string): Promise<string | undefined> =>
    (await pool.query<{ status: string }>(`SELECT status FROM ${h.qs}.runs WHERE id = $1`, [runId])).rows[0]?.status;

  it('every run rides out a restart (3 s down) and succeeds, each step succeeding once', async () => {
    const meta = { sleepMs: { 'fetch-data': 600, 'transform-data': 600, 'load-data': 600, notify: 300 } };
    const ids = Array.from({ length: 6 }, () => newE2eRunId('restart'));
    const procs = ids.map((id) => h.start(['run', 'data-pipeline', '--run-id', id, '--metadata', JSON.stringify(meta)], opts()));
    // Every process has claimed its run (a process still starting when the server is down fails
    // fast on its first connect, by design: nothing was written).
    await h.waitFor(
      'every run to be claimed',
      async () =>
        (
          await pool.query(`SELECT count(*)::int AS n FROM ${h.qs}.run_events WHERE run_id = ANY($1) AND type = 'run.claimed'`, [
            ids,
          ])
        ).rows[0]?.n === ids.length,
      30_000,
    );
    // Down for a few seconds: longer than any single reconnect, well within the retry budget.
    await cluster.stop();
    // The outage's length is the scenario (longer than one reconnect, within the retry budget).
    await sleep(3_000);
    await cluster.start();
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) {
      if (r.code !== 0) throw new Error(`a run did not ride out the restart\n${describeResult(r)}`);
    }
    await h.waitFor(
      'every run to be success',
      async () => (await Promise.all(ids.map(statusOf))).every((s) => s === 'success'),
      5_000,
    );
    for (const id of ids) expect(await statusOf(id)).toBe('success');
    const doubles = await pool.query(
      `SELECT run_id, step_name FROM ${h.qs}.run_events WHERE run_id = ANY($1) AND type = 'step.succeeded'
        GROUP BY run_id, step_name HAVING count(*) > 1`,
      [ids],
    );
    expect(doubles.rows).toEqual([]);
  });

  it('past the retry budget: exit 1, one line naming `orbit resume <id>`, and the resume finishes the run', async () => {
    const runId = newE2eRunId('budget');
    const meta = { sleepMs: { 'transform-data': 1_500 } };
    const proc = h.start(['run', 'data-pipeline', '--run-id', runId, '--metadata', JSON.stringify(meta)], {
      ...opts(),
      env: { ORBIT_RETRY_BUDGET_MS: '1500' },
    });
    await h.waitFor(
      'transform-data to start',
      async () =>
        (await pool.query(`SELECT 1 FROM ${h.qs}.run_events WHERE run_id = $1 AND step_name = 'transform-data'`, [runId]))
          .rowCount === 1,
      20_000,
    );
    await cluster.stop();
    const r = await proc.done;
    await cluster.start();
    expectExit(r, 1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^Error: Cannot reach the database: /);
    expect(r.errLines[0]).toContain(`orbit resume ${runId}`);
    // The process could not release the run (the database was down): resume takes it over.
    const resumed = await h.cli(['resume', runId, '--force'], opts());
    expectExit(resumed, 0);
    expect(await statusOf(runId)).toBe('success');
  });
});
