/**
 * A step that keeps the event loop busy past the lease (nothing renews it meanwhile). With nobody
 * else around, the owner renews the lease as soon as it can run again and keeps the step's result:
 * no release, the step runs once. When someone did take the run over meanwhile, the seq fence
 * still refuses the returning owner: one success per step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type E2eHarness, type EventRow } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];
const LEASE = { ORBIT_LEASE: '1s' };

describe('a step that blocks the event loop past the lease', () => {
  let h: E2eHarness;
  let dir: string;

  beforeAll(async () => {
    h = await createE2eHarness('busy_step');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-busy-step-'));
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The owner's lease row has run out on the database's clock. */
  const leaseExpired = async (): Promise<boolean> =>
    (await h.pool.query(`SELECT 1 FROM ${h.qs}.workers WHERE lease_until < now()`)).rows.length > 0;

  it('keeps its result and its run when nobody took the run over', async () => {
    const free = path.join(dir, 'free-1');
    const { runId, proc } = await h.startRunUntil(
      'lease-pipeline',
      { busyUntil: { long: free } },
      (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P, env: LEASE, timeoutMs: 60_000 },
    );
    await h.waitFor('the busy owner to let its lease run out', leaseExpired);
    writeFileSync(free, '');
    const r = await proc.done;
    expectExit(r, 0);
    const ev = await h.events(runId);
    expect(ofType(ev, 'run.released')).toEqual([]);
    expect(ofType(ev, 'step.started', 'long')).toHaveLength(1);
    expect((await h.run(runId))?.status).toBe('success');
  }, 90_000);

  it('is refused by the fence when someone took the run over meanwhile', async () => {
    const free = path.join(dir, 'free-2');
    const { runId, proc } = await h.startRunUntil(
      'lease-pipeline',
      { busyUntil: { long: free } },
      (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'long').length > 0,
      { pipelines: false, extraArgs: P, env: LEASE, timeoutMs: 60_000 },
    );
    await h.waitFor('the busy owner to let its lease run out', leaseExpired);
    await h.waitUntilStale([runId], 1_000);
    const resume = await h.cli([...P, 'resume', runId, '--threshold', '1s'], { pipelines: false, env: LEASE });
    expectExit(resume, 0);
    writeFileSync(free, '');
    const r = await proc.done;
    expect(r.code).not.toBe(0);
    const ev = await h.events(runId);
    for (const step of ['prepare', 'long', 'finish'])
      expect([step, ofType(ev, 'step.succeeded', step).length]).toEqual([step, 1]);
    // Nothing from the returning owner after the takeover.
    const takeover = ofType(ev, 'run.resumed')[0] as EventRow;
    expect(ev.filter((e) => e.seq > takeover.seq && e.writer === ev[0]?.writer)).toEqual([]);
    expect((await h.run(runId))?.status).toBe('success');
  }, 90_000);
});
