/**
 * Durable sleep (issue 19 item 1), with real processes and real signals: a run sleeping 3 s holds
 * no worker and no lease, is not interrupted, survives kill -9 of every Orbit process, and is
 * continued by a worker started later, within a second of its time (database clock).
 */
import * as path from 'node:path';
import { createE2eHarness, expectExit, REPO_ROOT, sleep, type E2eHarness } from '../support/cli';

const PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'waitPipelines.js');
const opts = { pipelines: false } as const;
const withPipelines = (args: readonly string[]) => ['--pipelines', PIPELINES, ...args];

/** The worker's orbit_suspended_runs gauge, scraped from its --metrics-port endpoint. */
const suspendedMetrics = async (worker: { stdout: string }): Promise<{ sleeping: number; waiting: number }> => {
  const url = /Prometheus metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(worker.stdout)?.[1];
  if (url === undefined) throw new Error(`the worker printed no metrics URL:\n${worker.stdout}`);
  const text = await (await fetch(url)).text();
  const of = (state: string) => Number(new RegExp(`^orbit_suspended_runs\\{state="${state}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  return { sleeping: of('sleeping'), waiting: of('waiting') };
};

describe('durable sleep', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_sleep');
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('a run sleeping 3 s survives kill -9 of every process and continues on a worker started later, within 1 s of its time', async () => {
    const first = h.start(withPipelines(['worker', '--concurrency', '2']), opts);
    const queued = await h.cli(withPipelines(['run', 'nap', '--queue', '--json']), opts);
    expectExit(queued, 0);
    const runId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    await h.waitFor('the run to sleep', async () => (await h.run(runId))?.status === 'sleeping', 20_000);
    const row = await h.run(runId);
    expect(row?.owner).toBeNull();
    const raw: unknown = (await h.steps(runId)).find((s) => s.name === 'cool-down')?.next_retry_at;
    expect(raw).not.toBeNull();
    const until = new Date(raw as string);

    // Every Orbit process dies during the sleep.
    first.kill('SIGKILL');
    await first.done;
    const left = await h.pool.query<{ ms: number }>('SELECT extract(epoch FROM $1::timestamptz - now()) * 1000 AS ms', [until]);
    expect(Number(left.rows[0]?.ms)).toBeGreaterThan(300);

    // A worker started later (before the time) wakes it at its time, from its deadline timer.
    const second = h.start(withPipelines(['worker', '--concurrency', '2']), opts);
    await h.waitFor(
      'the later worker to register',
      async () => (await h.pool.query(`SELECT 1 FROM ${h.qs}.workers WHERE pid = $1`, [second.pid])).rowCount === 1,
      20_000,
    );
    const ready = (await h.pool.query<{ at: Date }>(`SELECT started_at AS at FROM ${h.qs}.workers WHERE pid = $1`, [second.pid]))
      .rows[0]?.at as Date;
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 20_000);
    second.kill('SIGTERM');
    await second.done;
    const events = await h.events(runId);
    const woke = events.find(
      (e) => e.type === 'run.resumed' && e.seq > (events.find((x) => x.type === 'run.suspended')?.seq ?? 0),
    );
    expect(woke).toBeDefined();
    // Its time, or the worker's start when a loaded machine started it after that time.
    const due = Math.max(until.getTime(), ready.getTime());
    const lateMs = (woke?.occurred_at as Date).getTime() - due;
    process.stdout.write(
      `woken ${lateMs} ms after ${due === until.getTime() ? 'the end of its sleep' : 'the later worker started (after the end of its sleep)'}\n`,
    );
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1000);
    expect(events.filter((e) => e.type === 'step.succeeded').map((e) => e.step_name)).toEqual(['before', 'cool-down', 'after']);
    expect(events.map((e) => e.type)).toContain('step.sleeping');
    const verify = await h.cli(withPipelines(['verify', runId]), opts);
    expectExit(verify, 0);
  }, 60_000);

  it('a sleeping run is listed as sleeping until its time, never as interrupted, and holds no lease', async () => {
    const worker = h.start(withPipelines(['worker', '--metrics-port', '0']), opts);
    const queued = await h.cli(withPipelines(['run', 'long-nap', '--queue', '--json']), opts);
    expectExit(queued, 0);
    const runId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    await h.waitFor('the run to sleep', async () => (await h.run(runId))?.status === 'sleeping', 20_000);
    const check = await h.cli(withPipelines(['check-interrupted', '--threshold', '1ms']), opts);
    expect(check.stdout + check.stderr).not.toContain(runId);
    const runs = await h.cli(withPipelines(['runs']), opts);
    expect(runs.stdout).toMatch(/sleeping until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +1\/3/);
    expect(runs.stdout).toContain('  in step nap');
    expect(await suspendedMetrics(worker)).toEqual({ sleeping: 1, waiting: 0 });
    const history = await h.cli(withPipelines(['history', runId]), opts);
    expect(history.stdout).toMatch(/step\.sleeping.*sleeping until/);
    await h.waitFor(
      'the worker to hold no lease on it',
      async () =>
        (await h.pool.query(`SELECT 1 FROM ${h.qs}.workers WHERE $1 = ANY (held) AND lease_until > now()`, [runId])).rowCount ===
        0,
      10_000,
    );
    const cancelled = await h.cli(withPipelines(['cancel', runId]), opts);
    expectExit(cancelled, 0);
    worker.kill('SIGTERM');
    await worker.done;
  }, 60_000);

  it('orbit run of a pipeline that sleeps or waits says so in one line and exits 0 (a worker continues it)', async () => {
    const slept = await h.cli(withPipelines(['run', 'long-nap']), opts);
    expectExit(slept, 0);
    const sleeping = slept.lines.filter((l) => l.includes(' is sleeping until '));
    expect(sleeping).toHaveLength(1);
    const m = /Run (\S+) is sleeping until (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ); a worker \(orbit worker\) will continue it$/.exec(
      sleeping[0] ?? '',
    );
    expect(m).not.toBeNull();
    const sleptId = m?.[1] as string;
    expect((await h.run(sleptId))?.status).toBe('sleeping');
    const until: unknown = (await h.steps(sleptId)).find((s) => s.name === 'nap')?.next_retry_at;
    expect(`${new Date(until as string).toISOString().slice(0, 19).replace('T', ' ')}Z`).toBe(m?.[2]);
    expect(slept.stdout).not.toContain('released');

    const waited = await h.cli(withPipelines(['run', 'approval', '--json']), opts);
    expectExit(waited, 0);
    const doc = JSON.parse(waited.stdout) as { runId: string; status: string; released: boolean; suspended: unknown };
    expect(doc.status).toBe('waiting');
    expect(doc.released).toBe(false);
    expect(doc.suspended).toEqual({ kind: 'wait', step: 'approve', until: expect.stringMatching(/^\d{4}-/), event: 'approved' });
    const text = await h.cli(withPipelines(['run', 'approval']), opts);
    expectExit(text, 0);
    expect(text.stdout).toMatch(
      /Run (\S+) is waiting for "approved" \(times out \d{4}-[^)]+\); a worker \(orbit worker\) will continue it; send it with: orbit .*send \1 approved\n/,
    );
    for (const id of [sleptId, doc.runId, /Run (\S+) is waiting/.exec(text.stdout)?.[1] as string])
      expectExit(await h.cli(withPipelines(['cancel', id]), opts), 0);
  }, 60_000);

  it('a crash between step.started and step.sleeping: the sleep counts from the first start, not from the recovery', async () => {
    const runId = `e2e-nap-crash-${Date.now().toString(36)}`;
    // Killed (SIGKILL) right after committing the append that starts the sleep step.
    const crashed = await h.cli(withPipelines(['run', 'nap', '--run-id', runId]), {
      ...opts,
      env: { ORBIT_FAULT_AFTER: 'step.started:cool-down' },
    });
    expect(crashed.signal).toBe('SIGKILL');
    // Recovered 2 s later (proof of death on this machine): two thirds of the 3 s sleep are gone.
    await sleep(2_000);
    const worker = h.start(withPipelines(['worker', '--concurrency', '2']), opts);
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 30_000);
    worker.kill('SIGTERM');
    await worker.done;
    const events = await h.events(runId);
    const starts = events.filter((e) => e.type === 'step.started' && e.step_name === 'cool-down');
    expect(starts.map((e) => e.attempt)).toEqual([1, 2]);
    const slept = events.find((e) => e.type === 'step.sleeping');
    const until = Date.parse(String(slept?.payload.until));
    // From the first attempt's start (database clock), not from attempt 2's (which would be 3 s after it).
    expect(until).toBe((starts[0]?.occurred_at as Date).getTime() + 3_000);
    expect(until).toBeLessThan((starts[1]?.occurred_at as Date).getTime() + 3_000 - 1_500);
    expect(events.filter((e) => e.type === 'step.succeeded').map((e) => e.step_name)).toEqual(['before', 'cool-down', 'after']);
    expectExit(await h.cli(withPipelines(['verify', runId]), opts), 0);
  }, 60_000);

  it('a waiting run whose event came is due, not interrupted: never listed by check-interrupted or counted, woken by its event', async () => {
    // Earlier tests of this file recovered runs: the counts must not move.
    const stats = async () => {
      const r = await h.cli(withPipelines(['stats', '--json']), opts);
      expectExit(r, 0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const before = await stats();
    const counts = (s: Record<string, unknown>) => ({
      interruptedNow: s.interruptedNow,
      interruptedTotal: s.interruptedTotal,
      recoveries: s.recoveries,
      runsRecovered: s.runsRecovered,
    });
    // No worker runs: `orbit run` executes up to the wait and exits; the event comes with nobody to take it.
    const waited = await h.cli(withPipelines(['run', 'approval', '--json']), opts);
    expectExit(waited, 0);
    const runId = (JSON.parse(waited.stdout) as { runId: string }).runId;
    expectExit(await h.cli(withPipelines(['send', runId, 'approved', '--data', '{"ok":true}']), opts), 0);
    // Still suspended (no holder, no lease), its step due at the event's arrival.
    expect(await h.run(runId)).toMatchObject({ status: 'waiting', owner: null });
    const received = (await h.events(runId)).find((e) => e.type === 'event.received');
    const due: unknown = (await h.steps(runId)).find((s) => s.name === 'approve')?.next_retry_at;
    expect(new Date(due as string).toISOString()).toBe(received?.occurred_at.toISOString());
    // The projection is the fold's (orbit verify compares them).
    expectExit(await h.cli(withPipelines(['verify', runId]), opts), 0);
    const check = await h.cli(withPipelines(['check-interrupted', '--threshold', '1ms', '--json']), opts);
    expect(check.stdout + check.stderr).not.toContain(runId);
    expect(counts(await stats())).toEqual(counts(before));
    const runs = await h.cli(withPipelines(['runs', '--json']), opts);
    const listed = (JSON.parse(runs.stdout) as { runId: string; suspended?: unknown }[]).find((r) => r.runId === runId);
    expect(listed?.suspended).toMatchObject({ kind: 'wait', step: 'approve', event: 'approved', received: true });
    const text = await h.cli(withPipelines(['runs']), opts);
    expect(text.stdout).toMatch(/event "approved" received \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ; a worker resumes it/);
    // orbit history: due on its event, neither running nor interrupted (text, and --html's state box).
    const history = await h.cli(withPipelines(['history', runId]), opts);
    expect(history.stdout).toMatch(
      new RegExp(
        `^Run ${runId} \\(approval\\): event "approved" received in step approve, \\S+ so far; no worker holds it yet, a worker resumes it;`,
      ),
    );
    const html = await h.cli(withPipelines(['history', runId, '--html']), opts);
    expect(html.stdout).toContain(
      '<p class="state pause" id="state" data-pause="received"><b>Due</b>: event &quot;approved&quot; received',
    );
    expect(html.stdout).not.toMatch(/class="state (int|run)"/);
    // A worker started now wakes it (its first sweep) for its event, and nothing counts as a recovery.
    const worker = h.start(withPipelines(['worker']), opts);
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 20_000);
    worker.kill('SIGTERM');
    await worker.done;
    expect((await h.events(runId)).filter((e) => e.type === 'run.resumed').map((e) => e.payload.reason)).toEqual([
      'woken: event "approved" received',
    ]);
    expect(counts(await stats())).toEqual(counts(before));
  }, 60_000);

  it('orbit send: a waiting run shows what it waits for, takes the event by key, and refusals are one line', async () => {
    const worker = h.start(withPipelines(['worker', '--metrics-port', '0']), opts);
    const queued = await h.cli(withPipelines(['run', 'approval', '--queue', '--json', '--metadata', '{"orderId":"o-7"}']), opts);
    expectExit(queued, 0);
    const runId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    await h.waitFor('the run to wait', async () => (await h.run(runId))?.status === 'waiting', 20_000);
    const runs = await h.cli(withPipelines(['runs']), opts);
    expect(runs.stdout).toMatch(/waiting for "approved" \(times out \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\) +1\/3/);
    expect(await suspendedMetrics(worker)).toEqual({ sleeping: 0, waiting: 1 });
    const sent = await h.cli(
      withPipelines(['send', 'approved', '--key', '{"orderId":"o-7"}', '--data', '{"ok":true}', '--sender', 'ana']),
      opts,
    );
    expectExit(sent, 0);
    expect(sent.stdout).toContain(`sent to run ${runId}`);
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 20_000);
    // The running worker was notified of the event and woke the run: not a recovery.
    expect((await h.events(runId)).filter((e) => e.type === 'run.resumed').map((e) => e.payload.reason)).toEqual([
      'woken: event "approved" received',
    ]);
    const late = await h.cli(withPipelines(['send', runId, 'approved']), opts);
    expectExit(late, 1);
    expect(late.stderr.trim().split('\n')).toEqual([
      `Error: Event "approved" not delivered to run ${runId}: the run already ended (success)`,
    ]);
    const bad = await h.cli(withPipelines(['send', runId, 'approved', '--data', '{nope']), opts);
    expectExit(bad, 2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    worker.kill('SIGTERM');
    await worker.done;
  }, 60_000);

  it("orbit send without the pipeline: data the wait step's codec refuses is turned away, the run waits on, the next send is taken", async () => {
    const typed = ['--pipelines', path.join(REPO_ROOT, 'test', 'fixtures', 'typedWaitPipelines.js')];
    const worker = h.start([...typed, 'worker'], opts);
    const queued = await h.cli([...typed, 'run', 'typed-approval', '--queue', '--json'], opts);
    expectExit(queued, 0);
    const runId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    await h.waitFor('the run to wait', async () => (await h.run(runId))?.status === 'waiting', 20_000);
    // No --pipelines: this process cannot check the data, and says so.
    const blind = await h.cli(['send', runId, 'approved', '--data', '{"ok":"yes"}'], opts);
    expectExit(blind, 0);
    expect(blind.stdout).toContain('step approve takes it');
    expect(blind.stderr).toContain('Its data was not checked here');
    await h.waitFor(
      'the event turned away',
      async () => (await h.events(runId)).some((e) => e.type === 'event.rejected'),
      20_000,
    );
    await h.waitFor('the run to wait again', async () => (await h.run(runId))?.status === 'waiting', 20_000);
    const history = await h.cli(['history', runId], opts);
    expect(history.stdout).toMatch(
      /event\.rejected +"approved" of seq \d+ turned away by step approve: its data does not match step "approve"'s codec: ok: expected boolean, got "yes"; it waits on/,
    );
    // Where the pipeline is loaded, the same data is refused at once, in one line, nothing journaled.
    const checked = await h.cli([...typed, 'send', runId, 'approved', '--data', '{"ok":"yes"}'], opts);
    expectExit(checked, 1);
    expect(checked.stderr.trim().split('\n')).toHaveLength(1);
    const good = await h.cli(['send', runId, 'approved', '--data', '{"ok":true}'], opts);
    expectExit(good, 0);
    await h.waitFor('the run to succeed', async () => (await h.run(runId))?.status === 'success', 20_000);
    worker.kill('SIGTERM');
    await worker.done;
    const events = await h.events(runId);
    expect(events.filter((e) => e.type === 'event.received')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'step.failed')).toHaveLength(0);
    expectExit(await h.cli([...typed, 'verify', runId], opts), 0);
  }, 60_000);
});
