/**
 * The worker never goes deaf: its LISTEN connection is re-established after the backend is
 * killed (pg_terminate_backend) and after the database was unreachable for 30 s (the worker
 * reaches PostgreSQL through a TCP proxy the test can cut), it says so, and a run released
 * during the outage is resumed within 2 s of the database's return.
 */
import path from 'node:path';
import { Outage } from './outage';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, sleep, type E2eHarness, type EventRow } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];

describe('the worker re-establishes LISTEN forever', () => {
  let h: E2eHarness;
  let proxy: Outage;

  beforeAll(async () => {
    h = await createE2eHarness('lease_listen');
    const u = new URL(h.url);
    proxy = new Outage(u.hostname, Number(u.port || 5432));
    await proxy.up();
  });
  afterAll(async () => {
    await proxy.down();
    await h.dispose();
  });

  const listenPids = async (): Promise<number[]> =>
    (
      await h.pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid`, [
        `orbit-worker:${h.schema}`,
      ])
    ).rows.map((r) => r.pid);

  it('after pg_terminate_backend and after a 30 s outage, LISTENs again, says so, and resumes a run released meanwhile within 2 s', async () => {
    const u = new URL(h.url);
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    const worker = h.start([...P, 'worker'], { pipelines: false, databaseUrl: u.toString(), timeoutMs: 120_000 });
    await h.waitFor('the worker to listen', async () => worker.stdout.includes('listening on'), 15_000);
    const count = (text: string) => worker.stdout.split(text).length - 1;

    // 1. The listener's backend is killed.
    const [first] = await listenPids();
    expect(first).toBeDefined();
    await h.pool.query('SELECT pg_terminate_backend($1)', [first]);
    await h.waitFor('the worker to LISTEN again', async () => count('LISTEN connection restored') === 1, 10_000);
    expect(count('LISTEN connection lost')).toBe(1);
    const second = await listenPids();
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first);

    // 2. The database is unreachable (for the worker) for 30 s; a run is released meanwhile.
    const { runId, proc } = await h.startRunUntil(
      'lease-pipeline',
      { firstSleepMs: { long: 60_000 } },
      (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P },
    );
    const downAt = Date.now();
    await proxy.down();
    await h.waitFor('the worker to notice', async () => count('LISTEN connection lost') === 2, 15_000);
    proc.kill('SIGTERM');
    await h.waitFor('orbit run to take the first SIGTERM', async () =>
      proc.stderr.includes('SIGTERM: finishing the current step'),
    );
    proc.kill('SIGTERM'); // the second signal aborts the step: the run is released at once
    expectExit(await proc.done, 130);
    expect((await h.run(runId))?.owner).toBeNull();
    // The outage's length is the scenario: the worker must still LISTEN after 30 s without a database.
    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    expect(ofType(await h.events(runId), 'run.resumed')).toHaveLength(0);

    await proxy.up();
    const backAt = await h.pool.query<{ now: Date }>('SELECT now()');
    await h.waitFor(
      'the worker to resume the released run',
      async () => ofType(await h.events(runId), 'run.resumed').length > 0,
      30_000,
    );
    const resumed = ofType(await h.events(runId), 'run.resumed')[0] as EventRow;
    // Its NOTIFY was lost in the outage: the worker itself found it once it was back (database clock).
    const afterMs = resumed.occurred_at.getTime() - (backAt.rows[0] as { now: Date }).now.getTime();
    process.stdout.write(`[lease] after a 30 s outage: released run resumed ${afterMs} ms after the database's return\n`);
    expect(afterMs).toBeGreaterThanOrEqual(0);
    const workerId = /^Recovery worker (\S+) listening/m.exec(worker.stdout)?.[1];
    expect(resumed.writer).toBe(workerId);
    await h.waitFor('the worker to LISTEN again', async () => count('LISTEN connection restored') === 2, 15_000);
    expect(await listenPids()).toHaveLength(1);
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 15_000);

    worker.kill('SIGINT');
    expectExit(await worker.done, 0);
  }, 120_000);
});
