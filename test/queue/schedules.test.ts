/**
 * Schedules (issue 19 item 3): `orbit schedule add|list|remove`, and workers that start each tick's
 * run exactly once however many of them run, and apply the catch-up policy after downtime. The CLI
 * and the kill -9 case use real processes; the ten ticks and the downtime use three in-process
 * workers with a client each (what the database sees of three processes, without their start-up
 * time in CI). Each schedule ticks on a list of seconds computed from the database clock, so the
 * expected ticks are known exactly and nothing depends on how fast a worker starts.
 */
import { addSchedule, removeSchedule } from '../../src/api/schedules';
import { startWorker } from '../../src/api/startWorker';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createE2eHarness, expectExit, type CliProcess, type E2eHarness } from '../support/cli';
import { createTestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

describe('schedules', () => {
  let h: E2eHarness;

  beforeAll(async () => {
    h = await createE2eHarness('q_sched');
  });
  afterAll(async () => {
    await h.dispose();
  });

  const dbNowSec = async (): Promise<number> =>
    Math.floor(((await h.pool.query<{ now: Date }>('SELECT now()')).rows[0]?.now as Date).getTime() / 1000);

  /** `n` consecutive seconds starting `from` seconds after now, as a cron seconds list, and their epoch seconds. */
  const secondsFromNow = async (from: number, n: number): Promise<{ cron: string; ticks: number[] }> => {
    const now = await dbNowSec();
    const ticks = Array.from({ length: n }, (_, i) => now + from + i);
    return { cron: `${ticks.map((t) => t % 60).join(',')} * * * * *`, ticks };
  };

  const add = async (args: readonly string[]): Promise<string> => {
    const r = await h.cli(['schedule', 'add', ...args]);
    expectExit(r, 0);
    const id = /Schedule (\d+) added/.exec(r.stdout)?.[1];
    if (id === undefined) throw new Error(`no schedule id in ${r.stdout}`);
    return id;
  };

  const ticksOf = async (id: string): Promise<number[]> =>
    (
      await h.pool.query<{ s: number }>(
        `SELECT extract(epoch FROM tick_at)::int AS s FROM ${h.qs}.schedule_ticks WHERE schedule_id = $1 ORDER BY tick_at`,
        [id],
      )
    ).rows.map((r) => Number(r.s));

  /** Runs created by a schedule (its run ids) and how many run.created events they have. */
  const runsOf = async (id: string): Promise<{ runs: number; created: number }> => {
    const r = await h.pool.query<{ runs: number; created: number }>(
      `SELECT (SELECT count(*)::int FROM ${h.qs}.runs WHERE id LIKE $1) AS runs,
              (SELECT count(*)::int FROM ${h.qs}.run_events WHERE run_id LIKE $1 AND type = 'run.created') AS created`,
      [`sched\\_${id}\\_%`],
    );
    return r.rows[0] as { runs: number; created: number };
  };

  const startWorkers = async (n: number): Promise<CliProcess[]> => {
    const before = Number(
      (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.worker_registry`)).rows[0]?.n,
    );
    const ws = Array.from({ length: n }, () => h.start(['worker', '--concurrency', '4'], { timeoutMs: 90_000 }));
    await h.waitFor(
      `${n} workers to register`,
      async () =>
        Number((await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.worker_registry`)).rows[0]?.n) >=
        before + n,
      30_000,
    );
    return ws;
  };

  it('bad cron, time zone, metadata or catch-up: one stderr line, exit 2, nothing written', async () => {
    const cases: Array<[readonly string[], RegExp]> = [
      [['data-pipeline', '--cron', '61 * * * *'], /cron/],
      [['data-pipeline', '--cron', '* * * * *', '--timezone', 'Mars/Olympus'], /time zone/],
      // An empty name was taken by croner as the process's local zone, and stored as ''.
      [['data-pipeline', '--cron', '* * * * *', '--timezone', ''], /time zone/],
      [['data-pipeline', '--cron', '* * * * *', '--timezone', ' '], /time zone/],
      [['data-pipeline', '--cron', '* * * * *', '--metadata', '{nope'], /--metadata.*not valid JSON/],
      [['data-pipeline', '--cron', '* * * * *', '--metadata', '[1]'], /JSON object/],
      [['data-pipeline', '--cron', '* * * * *', '--catch-up', 'all'], /catch-up policy/],
      [['data-pipeline'], /--cron/],
    ];
    for (const [args, message] of cases) {
      const r = await h.cli(['schedule', 'add', ...args]);
      expectExit(r, 2);
      expect(r.errLines).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const unknown = await h.cli(['schedule', 'add', 'nosuch', '--cron', '* * * * *']);
    expectExit(unknown, 1);
    expect(unknown.errLines).toEqual([expect.stringMatching(/^Error: Pipeline "nosuch" is not registered/)]);
    const bad = await h.cli(['schedule', 'remove', 'x1']);
    expectExit(bad, 2);
    expect(bad.errLines).toHaveLength(1);
    const list = await h.cli(['schedule', 'list', '--json']);
    expectExit(list, 0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const id = await add(['data-pipeline', '--cron', '0 9 * * 1-5', '--timezone', 'Europe/Paris', '--metadata', '{"k":1}']);
    const listed = await h.cli(['schedule', 'list']);
    expect(listed.stdout).toContain(`${id}  data-pipeline  "0 9 * * 1-5" Europe/Paris  catch-up skip  metadata {"k":1}`);
    expectExit(await h.cli(['schedule', 'remove', id]), 0);
    const gone = await h.cli(['schedule', 'remove', id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain(`no schedule ${id}`);
  }, 60_000);

  it("a worker killed (kill -9) between a tick's row and its run leaves neither: the tick runs once, on another worker", async () => {
    // One tick, run once on catch-up `last`: the faulty worker fires it whether it starts before or after it.
    const one = await secondsFromNow(3, 1);
    const tick = one.ticks[0] as number;
    const id = await add(['data-pipeline', '--cron', one.cron, '--catch-up', 'last']);
    // ORBIT_FAULT_AFTER=schedule.tick: SIGKILL right after inserting the tick's row, before its run.
    const faulty = h.start(['worker'], { env: { ORBIT_FAULT_AFTER: 'schedule.tick' }, timeoutMs: 30_000 });
    const died = await faulty.done;
    expect(died.signal).toBe('SIGKILL');
    expect(died.timedOut).toBe(false);
    // Before the fix the row stayed (and no worker ever queued the run); now its transaction died with it.
    expect(await ticksOf(id)).toEqual([]);
    expect(await runsOf(id)).toEqual({ runs: 0, created: 0 });
    // Two workers start: both catch the tick up, exactly one queues its run.
    const workers = await startWorkers(2);
    try {
      await h.waitFor("the tick's run", async () => (await runsOf(id)).runs >= 1, 15_000);
      await h.waitFor('both workers to have read the schedule', async () => (await ticksOf(id)).length === 1, 5_000);
      expect(await ticksOf(id)).toEqual([tick]);
      expect(await runsOf(id)).toEqual({ runs: 1, created: 1 });
      const row = await h.pool.query<{ run_id: string }>(`SELECT run_id FROM ${h.qs}.schedule_ticks WHERE schedule_id = $1`, [
        id,
      ]);
      expect(row.rows[0]?.run_id).toBe(`sched_${id}_${(tick * 1000).toString(36)}`);
      expect((await h.run(row.rows[0]?.run_id as string))?.id).toBe(row.rows[0]?.run_id);
    } finally {
      for (const w of workers) w.kill('SIGINT');
      for (const w of workers) await w.done;
    }
    expect(await runsOf(id)).toEqual({ runs: 1, created: 1 });
    await h.cli(['schedule', 'remove', id]);
  }, 60_000);

  it('three workers, ten ticks: exactly ten runs, one per tick; after five missed ticks, skip runs none and last runs one', async () => {
    // In-process workers, each with its own client (pool, LISTEN connection, worker id): to the
    // database three processes; no process start-up in the timing (the kill -9 case is above).
    const tc = await createTestClient({ prefix: 'q_sched_ticks' });
    tc.registry.registerPipeline(definePipeline({ name: 'tick', steps: [{ name: 'work', handler: () => ({ success: true }) }] }));
    const db = tc.client.db;
    const nowSec = async () =>
      Math.floor(((await db.pool.query<{ now: Date }>('SELECT now()')).rows[0]?.now as Date).getTime() / 1000);
    const seconds = async (from: number, n: number) => {
      const now = await nowSec();
      const ticks = Array.from({ length: n }, (_, i) => now + from + i);
      return { cron: `${ticks.map((t) => t % 60).join(',')} * * * * *`, ticks };
    };
    const ticks = async (id: string) =>
      (
        await db.pool.query<{ s: number }>(
          `SELECT extract(epoch FROM tick_at)::int AS s FROM ${db.qs}.schedule_ticks WHERE schedule_id = $1 ORDER BY tick_at`,
          [id],
        )
      ).rows.map((r) => Number(r.s));
    const runs = async (id: string) =>
      (
        await db.pool.query<{ runs: number; created: number }>(
          `SELECT (SELECT count(*)::int FROM ${db.qs}.runs WHERE id LIKE $1) AS runs,
                  (SELECT count(*)::int FROM ${db.qs}.run_events WHERE run_id LIKE $1 AND type = 'run.created') AS created`,
          [`sched\\_${id}\\_%`],
        )
      ).rows[0];
    const add = async (cron: string, catchUp?: 'skip' | 'last') =>
      expectRight(await addSchedule(tc.client, 'tick', cron, catchUp === undefined ? {} : { catchUp }));
    const start = async () =>
      Promise.all([0, 1, 2].map(async () => expectRight(await startWorker({ client: await tc.peer(), concurrency: 4 }))));
    const until = (what: string, f: () => Promise<boolean>, timeoutMs = 30_000) => waitFor(f, { what, timeoutMs });
    let workers = await start();
    try {
      // Added while the workers run: NOTIFY makes them read it at once.
      const ten = await seconds(3, 10);
      const every = await add(ten.cron);
      await until('the ten ticks', async () => (await ticks(every)).length >= 10);
      expect(await ticks(every)).toEqual(ten.ticks);
      await until('ten runs', async () => (await runs(every))?.runs === 10);
      expect(await runs(every)).toEqual({ runs: 10, created: 10 });
      expectRight(await removeSchedule(tc.client, every));

      // Downtime: two schedules of eight ticks; every worker stops after the first ones.
      const eight = await seconds(3, 8);
      const skip = await add(eight.cron, 'skip');
      const last = await add(eight.cron, 'last');
      await until(
        'the first run of both',
        async () => ((await runs(skip))?.created ?? 0) >= 1 && ((await runs(last))?.created ?? 0) >= 1,
      );
      for (const w of workers) await w.stop();
      workers = [];
      const skipBefore = await ticks(skip);
      const lastBefore = await ticks(last);
      // At least five ticks are missed while no worker runs.
      expect(skipBefore.length).toBeLessThanOrEqual(3);
      expect(lastBefore.length).toBeLessThanOrEqual(3);
      const final = eight.ticks[7] as number;
      await until('the last tick to pass', async () => (await nowSec()) > final, 15_000);
      workers = await start();
      await until('the catch-up run of the last tick', async () => (await ticks(last)).includes(final));
      expect(await ticks(last)).toEqual([...lastBefore, final]);
      // The same workers read both schedules at once: skip queued nothing for the missed ticks.
      expect(await ticks(skip)).toEqual(skipBefore);
      await until('the runs', async () => (await runs(last))?.runs === lastBefore.length + 1);
      expect(await runs(last)).toEqual({ runs: lastBefore.length + 1, created: lastBefore.length + 1 });
      expect(await runs(skip)).toEqual({ runs: skipBefore.length, created: skipBefore.length });
    } finally {
      for (const w of workers) await w.stop();
      await tc.dispose();
    }
  }, 120_000);
});
