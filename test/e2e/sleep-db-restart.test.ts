/**
 * Durable sleep across a PostgreSQL restart (issue 19 item 1: "survives the restart of every
 * process and of the database"), on a throwaway cluster of our own, never the shared server. A run
 * sleeps 3 s under an `orbit worker` that keeps running; the database stops during the sleep and
 * starts again, either after the sleep's end (the run is woken within a second or two of the
 * database's return) or before it (woken within a second of its time). The journal verifies either way.
 */
import * as path from 'node:path';
import { Pool } from 'pg';
import { startCluster, type Cluster } from '../../scripts/chaos/cluster';
import { createE2eHarness, expectExit, REPO_ROOT, sleep, type CliProcess, type E2eHarness } from '../support/cli';

jest.setTimeout(120_000);

const PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'waitPipelines.js');

describe('a sleeping run across a database restart', () => {
  let cluster: Cluster;
  let h: E2eHarness;
  let pool: Pool;
  let worker: CliProcess | undefined;
  const opts = () => ({ databaseUrl: cluster.url, pipelines: false, timeoutMs: 100_000 }) as const;
  const cli = (args: readonly string[]) => h.cli(['--pipelines', PIPELINES, ...args], opts());

  beforeAll(async () => {
    cluster = await startCluster('orbit-sleep-restart-test');
    h = await createE2eHarness('e2e_sleep_restart');
    pool = new Pool({ connectionString: cluster.url, max: 2 });
    pool.on('error', () => undefined);
    expectExit(await h.cli(['migrate'], opts()), 0);
    worker = h.start(['--pipelines', PIPELINES, 'worker', '--concurrency', '2'], opts());
    await h.waitFor('the worker to listen', async () => worker?.stdout.includes('listening on') === true, 30_000);
  });

  afterAll(async () => {
    worker?.kill('SIGTERM');
    await worker?.done;
    await pool?.end();
    await h?.dispose();
    await cluster?.dispose();
  });

  const one = async <R extends object>(sql: string, values: unknown[] = []): Promise<R | undefined> =>
    (await pool.query<R>(sql, values)).rows[0];

  /** Queues a 3 s nap and waits until it sleeps, let go by its worker; returns its id and the sleep's end. */
  const napping = async (): Promise<{ runId: string; until: Date }> => {
    const queued = await cli(['run', 'nap', '--queue', '--json']);
    expectExit(queued, 0);
    const runId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    await h.waitFor(
      'the run to sleep',
      async () =>
        (await one<{ status: string; owner: string | null }>(`SELECT status, owner FROM ${h.qs}.runs WHERE id = $1`, [runId]))
          ?.status === 'sleeping',
      20_000,
    );
    const step = await one<{ until: Date }>(
      `SELECT next_retry_at AS until FROM ${h.qs}.steps WHERE run_id = $1 AND name = 'cool-down'`,
      [runId],
    );
    return { runId, until: step?.until as Date };
  };

  /** Waits for success; returns when the run was woken (database clock) and checks its journal. */
  const wokenAt = async (runId: string): Promise<Date> => {
    await h.waitFor(
      'the run to succeed',
      async () =>
        (await one<{ status: string }>(`SELECT status FROM ${h.qs}.runs WHERE id = $1`, [runId]).catch(() => undefined))
          ?.status === 'success',
      30_000,
    );
    const woke = await one<{ at: Date }>(
      `SELECT occurred_at AS at FROM ${h.qs}.run_events
        WHERE run_id = $1 AND type = 'run.resumed'
          AND seq > (SELECT seq FROM ${h.qs}.run_events WHERE run_id = $1 AND type = 'run.suspended')`,
      [runId],
    );
    expect(woke).toBeDefined();
    const succeeded = await pool.query<{ step_name: string }>(
      `SELECT step_name FROM ${h.qs}.run_events WHERE run_id = $1 AND type = 'step.succeeded' ORDER BY seq`,
      [runId],
    );
    expect(succeeded.rows.map((r) => r.step_name)).toEqual(['before', 'cool-down', 'after']);
    const verify = await cli(['verify', runId]);
    expectExit(verify, 0);
    return woke?.at as Date;
  };

  it('down past the end of the sleep: woken within 1 s of the database coming back', async () => {
    const { runId, until } = await napping();
    await cluster.stop();
    // Down until well past the sleep's end (the host's clock is the server's: same machine).
    await sleep(Math.max(0, until.getTime() - Date.now()) + 1_500);
    await cluster.start();
    // "Back" is when the server accepts connections (its clock at our first query once pg_ctl said
    // ready), not pg_postmaster_start_time(): startup itself took 0.3-0.6 s on a loaded CI machine.
    const back = (await one<{ at: Date }>('SELECT clock_timestamp() AS at'))?.at as Date;
    expect(back.getTime()).toBeGreaterThan(until.getTime());
    const woke = await wokenAt(runId);
    const lateMs = woke.getTime() - back.getTime();
    process.stdout.write(
      `woken ${lateMs} ms after the database accepted connections again (${back.getTime() - until.getTime()} ms past its time)\n`,
    );
    // The worker retries every 500 ms and sweeps on its return: 0.2-1.0 s idle. The bound leaves
    // room for a loaded 2-core machine; without the sweep on return the run would wait out the
    // backoff of the sweeps that failed during the outage (growing from 1 s).
    expect(woke.getTime()).toBeGreaterThanOrEqual(until.getTime());
    expect(lateMs).toBeLessThan(2_000);
  });

  it('down and back before the end of the sleep: woken within 1 s of its time', async () => {
    const { runId, until } = await napping();
    await cluster.stop();
    await sleep(500);
    await cluster.start();
    const back = (await one<{ at: Date }>('SELECT pg_postmaster_start_time() AS at'))?.at as Date;
    // The restart must fall inside the sleep, or this case proves nothing.
    expect(back.getTime()).toBeLessThan(until.getTime());
    const woke = await wokenAt(runId);
    const lateMs = woke.getTime() - until.getTime();
    process.stdout.write(
      `woken ${lateMs} ms after its time (the database was back ${until.getTime() - back.getTime()} ms before)\n`,
    );
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);
  });
});
