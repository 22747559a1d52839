/**
 * A process that cannot renew its lease before it expires stops starting steps and aborts the
 * running step's AbortSignal (it may be partitioned; someone may take the run over). The process
 * reaches PostgreSQL through a TCP proxy that the test cuts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, expectExit, ofType, REPO_ROOT, type E2eHarness, type EventRow } from '../support/cli';
import { Outage, viaProxy } from './outage';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];

describe('losing the lease', () => {
  let h: E2eHarness;
  let proxy: Outage;
  let dir: string;

  beforeAll(async () => {
    h = await createE2eHarness('lease_loss');
    const u = new URL(h.url);
    proxy = new Outage(u.hostname, Number(u.port || 5432));
    await proxy.up();
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-lease-loss-'));
  });
  afterAll(async () => {
    await proxy.down();
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aborts the running step within the lease once renewals fail, starts no further step, and the run is recoverable', async () => {
    const marker = path.join(dir, 'marks.txt');
    const reasons = path.join(dir, 'abort-reasons.txt');
    const marks = () => readFileSync(marker, 'utf8').trim().split('\n');
    // A short transient-retry budget: the process gives up on the cut database in a second, not 30 s.
    const { runId, proc } = await h.startRunUntil(
      'lease-pipeline',
      { firstSleepMs: { long: 600_000 }, marker, abortReasons: reasons },
      (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'long').length > 0,
      {
        pipelines: false,
        extraArgs: P,
        databaseUrl: viaProxy(h.url, proxy),
        env: { ORBIT_LEASE: '2s', ORBIT_RETRY_BUDGET_MS: '1000' },
        timeoutMs: 60_000,
      },
    );
    await proxy.down();
    await h.waitFor('the step to be aborted', async () => marks().includes('long 1 aborted'));
    // Aborted by the lease's watchdog (armed for the lease from the last renewal sent), not by the
    // step's 10 min sleep nor by anything else: its signal says why.
    expect(readFileSync(reasons, 'utf8').trim()).toBe(
      'long 1: the lease could not be renewed in time; another process may take the run over',
    );
    const r = await proc.done;
    expect(r.code).toBe(1);
    expect(marks()).toEqual(['prepare 1 start', 'prepare 1 end', 'long 1 start', 'long 1 aborted']);

    await proxy.up();
    const check = await h.cli([...P, 'check-interrupted'], { pipelines: false });
    expectExit(check, 0);
    expect(check.lines).toContain(`Run ID: ${runId}`);
    const resume = await h.cli([...P, 'resume', runId], { pipelines: false });
    expectExit(resume, 0);
    expect(marks().slice(4)).toEqual(['long 2 start', 'long 2 end', 'finish 1 start', 'finish 1 end']);
  }, 60_000);
});
