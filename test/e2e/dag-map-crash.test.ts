/**
 * kill -9 of `orbit run` with three branches in flight and a map step half done (issue 18, Done
 * when): check-interrupted lists the run at once (its owner's process is gone) with every ready
 * step on "Next step:", resume runs only the in-flight branches and the unfinished items, and a
 * ledger keyed by the idempotency keys holds each side effect once. replay, diff and stats show
 * the branches and the items.
 */
import path from 'node:path';
import { createE2eHarness, expectExit, newE2eRunId, ofType, REPO_ROOT, type E2eHarness } from '../support/cli';

const MAP = ['--pipelines', path.join(REPO_ROOT, 'test', 'fixtures', 'mapPipelines.js')];
const N = 120;
const BRANCHES = ['b1', 'b2', 'b3'];

describe('kill -9 with three branches in flight and a map step half done', () => {
  let h: E2eHarness;
  const ledger = `ledger_dag_${process.pid}_${Date.now()}`;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_dagmap');
    await h.pool.query(`CREATE TABLE ${ledger} (key text PRIMARY KEY, item int NOT NULL)`);
  });
  afterAll(async () => {
    await h.pool.query(`DROP TABLE IF EXISTS ${ledger}`);
    await h.dispose();
  });

  it('lists the run at once; resume runs only the in-flight branches and the unfinished items; each key once', async () => {
    const runId = newE2eRunId('dagmap');
    const proc = h.start([...MAP, 'run', 'ledger-dag', '--run-id', runId, '--metadata', JSON.stringify({ n: N, ledger })], {
      pipelines: false,
      env: { LEDGER_STALL: '1' },
    });
    // The branches and the items from N/2 on hang after their side effect: wait for all of them.
    await h.waitFor(
      'three branches and the map step half done, in flight',
      async () => {
        const es = await h.events(runId);
        const started = ofType(es, 'step.started').map((e) => e.step_name);
        return (
          BRANCHES.every((b) => started.includes(b)) &&
          ofType(es, 'item.succeeded').length === N / 2 &&
          ofType(es, 'item.started').length === N / 2 + 8
        );
      },
      60_000,
    );
    proc.kill('SIGKILL');
    expect((await proc.done).signal).toBe('SIGKILL');
    const before = await h.events(runId);
    const doneBefore = new Set(ofType(before, 'item.succeeded').map((e) => (e.payload as { index: number }).index));
    expect(doneBefore.size).toBe(N / 2);

    // At once: the owner's process is gone, whatever the threshold (the default 10 minutes here).
    const check = await h.cli([...MAP, 'check-interrupted'], { pipelines: false });
    expectExit(check, 0);
    const block = check.stdout.slice(check.stdout.indexOf(`Run ID: ${runId}`));
    expect(block).toContain('  Completed steps: 1\n');
    expect(block).toContain('  Next step: b1, b2, b3, charge\n');
    expect(block).toContain('  Owner gone:');

    // replay at the crash: the four ready steps, and how far the map step had got.
    const replay = await h.cli([...MAP, 'replay', runId, '--at', String(before.length)], { pipelines: false });
    expectExit(replay, 0);
    expect(replay.lines).toContain('Next: 4 steps ready (b1, b2, b3, charge).');
    expect(replay.lines.find((l) => l.trimStart().startsWith('charge '))).toContain(
      `items ${N / 2}/${N} succeeded, 8 started and unfinished`,
    );

    const resumed = await h.cli([...MAP, 'resume', runId], { pipelines: false });
    expectExit(resumed, 0);
    const after = await h.events(runId);
    expect(after[after.length - 1]?.type).toBe('run.succeeded');
    const resumedAt = after.findIndex((e) => e.type === 'run.resumed');
    expect((after[resumedAt]?.payload as { inFlight: string[] }).inFlight).toEqual([...BRANCHES, 'charge']);
    const since = after.slice(resumedAt);
    // The in-flight branches ran again (attempt 2), 'list' never; 'total' once, after them.
    expect(ofType(since, 'step.started').map((e) => `${e.step_name ?? ''}#${e.attempt ?? 0}`)).toEqual(
      expect.arrayContaining(['b1#2', 'b2#2', 'b3#2', 'total#1']),
    );
    expect(ofType(since, 'step.started', 'list')).toEqual([]);
    for (const s of ['list', ...BRANCHES, 'charge', 'total']) expect(ofType(after, 'step.succeeded', s)).toHaveLength(1);
    // Only the unfinished items ran again, each once: the 8 in flight (attempt 2), the rest for the first time.
    const rerun = ofType(since, 'item.started').map((e) => (e.payload as { index: number }).index);
    expect(rerun.filter((i) => doneBefore.has(i))).toEqual([]);
    expect(new Set(rerun).size).toBe(rerun.length);
    expect(rerun.length).toBe(N / 2);
    expect(ofType(since, 'item.started').filter((e) => e.attempt === 2)).toHaveLength(8);
    expect(ofType(after, 'item.succeeded')).toHaveLength(N);

    // Each side effect once per key: N items and three branches.
    const keys = await h.pool.query<{ key: string }>(`SELECT key FROM ${ledger} ORDER BY item, key`);
    expect(keys.rows.map((r) => r.key)).toEqual([
      ...BRANCHES.map((b) => `${runId}:${b}`),
      ...Array.from({ length: N }, (_, i) => `${runId}:charge:${i}`),
    ]);

    const stats = await h.cli([...MAP, '--json', 'stats'], { pipelines: false });
    expectExit(stats, 0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ recoveries: 1, itemsExecutedPerRecovery: N / 2 });
    const diff = await h.cli([...MAP, 'diff', runId, runId], { pipelines: false });
    expectExit(diff, 0);
    expect(diff.lines.find((l) => l.startsWith('charge '))).toMatch(new RegExp(`success ×1 \\S+ ${N}/${N} items +same$`));
    expectExit(await h.cli([...MAP, 'verify', runId], { pipelines: false }), 0);
  }, 120_000);
});
