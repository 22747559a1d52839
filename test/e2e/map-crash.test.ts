/**
 * kill -9 of `orbit run` with a map step half done (issue 18, Done when): check-interrupted lists
 * the run, resume runs only the unfinished items (never a succeeded one), and a ledger keyed by
 * the items' idempotency keys holds each side effect once.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, newE2eRunId, ofType, REPO_ROOT, type E2eHarness } from '../support/cli';

const MAP = ['--pipelines', path.join(REPO_ROOT, 'test', 'fixtures', 'mapPipelines.js')];
const N = 400;

describe('kill -9 with a map step half done', () => {
  let h: E2eHarness;
  const ledger = `ledger_${process.pid}_${Date.now()}`;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_map');
    await h.pool.query(`CREATE TABLE ${ledger} (key text PRIMARY KEY, item int NOT NULL)`);
  });
  afterAll(async () => {
    await h.pool.query(`DROP TABLE IF EXISTS ${ledger}`);
    await h.dispose();
  });

  it('check-interrupted lists the run; resume runs only the unfinished items; each key once in the ledger', async () => {
    const runId = newE2eRunId('map');
    const proc = h.start([...MAP, 'run', 'ledger-map', '--run-id', runId, '--metadata', JSON.stringify({ n: N, ledger })], {
      pipelines: false,
    });
    await h.waitFor('half the items', async () => ofType(await h.events(runId), 'item.succeeded').length >= N / 2, 60_000);
    proc.kill('SIGKILL');
    const killed = await proc.done;
    expect(killed.signal).toBe('SIGKILL');
    const before = await h.events(runId);
    const doneBefore = new Set(ofType(before, 'item.succeeded').map((e) => (e.payload as { index: number }).index));
    expect(doneBefore.size).toBeGreaterThanOrEqual(N / 2);
    expect(doneBefore.size).toBeLessThan(N);

    await h.waitUntilStale([runId], 1000);
    const check = await h.cli([...MAP, '--threshold', '1s', 'check-interrupted'], { pipelines: false });
    expect(check.stdout).toContain(runId);

    const resumed = await h.cli([...MAP, '--threshold', '1s', 'resume', runId], { pipelines: false });
    expectExit(resumed, 0);
    const after = await h.events(runId);
    expect(after[after.length - 1]?.type).toBe('run.succeeded');
    const resumedAt = after.findIndex((e) => e.type === 'run.resumed');
    const rerun = after
      .slice(resumedAt)
      .filter((e) => e.type === 'item.started')
      .map((e) => (e.payload as { index: number }).index);
    // Only unfinished items ran again, each once; no succeeded item started after the resume.
    expect(rerun.filter((i) => doneBefore.has(i))).toEqual([]);
    expect(new Set(rerun).size).toBe(rerun.length);
    expect(rerun.length).toBe(N - doneBefore.size);
    expect(ofType(after, 'item.succeeded')).toHaveLength(N);
    const rows = await h.pool.query<{ n: number; keys: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM ${ledger}`,
    );
    expect(rows.rows[0]).toEqual({ n: N, keys: N });
    const keys = await h.pool.query<{ key: string }>(`SELECT key FROM ${ledger} ORDER BY item`);
    expect(keys.rows.map((r) => r.key)).toEqual(Array.from({ length: N }, (_, i) => `${runId}:charge:${i}`));
    const verify = await h.cli([...MAP, 'verify', runId], { pipelines: false });
    expectExit(verify, 0);
  }, 180_000);
});
