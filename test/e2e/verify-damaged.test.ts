import type { Database } from '../../src/db/database';
import { appendEvents } from '../../src/journal/appendEvents';
import { claimed, created, runSucceeded, started, succeeded } from '../support/eventBuilders';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';

/*
 * Issue 10 item 5: one damaged run must not blind `verify`, and repair must not destroy evidence.
 * 100 runs, 3 of them damaged as a superuser would (triggers off with session_replication_role),
 * each in a different way. `verify` must report all 3 and exit non-zero; `rebuild-projections`
 * must leave their projection rows exactly as they were while it repairs the healthy runs.
 */

const STEPS = ['extract', 'transform', 'load'];
const fullRun = () => [
  created(STEPS),
  claimed('w1'),
  ...STEPS.flatMap((s) => [started(s, 1), succeeded(s, 1, { from: s })]),
  runSucceeded(),
];

/** Runs `sql` as a superuser with the append-only triggers off (what the threat model assumes). */
const asSuperuser = async (db: Database, sql: string, values: unknown[]): Promise<void> => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(sql, values);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
};

interface VerifyDoc {
  ok: boolean;
  runsChecked: number;
  problems: { runId: string; seq: number | null; kind: string; detail: string }[];
  brokenRuns: string[];
}

describe('verify and rebuild-projections over a journal with damaged runs', () => {
  let t: TestDatabase;
  let h: E2eHarness;
  const ids = Array.from({ length: 100 }, (_, i) => `audit-${String(i).padStart(3, '0')}`);
  const gap = ids[17] as string;
  const edited = ids[42] as string;
  const appended = ids[88] as string;
  const projectionRows = async (runId: string) => ({
    run: (await t.db.pool.query(`SELECT * FROM ${t.db.qs}.runs WHERE id = $1`, [runId])).rows,
    steps: (await t.db.pool.query(`SELECT * FROM ${t.db.qs}.steps WHERE run_id = $1 ORDER BY step_index`, [runId])).rows,
  });

  beforeAll(async () => {
    t = await createTestDatabase('verifydmg');
    h = await createE2eHarness('verifydmg');
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(ids.slice(i, i + 20).map(async (id) => expectRight(await appendEvents(t.db, id, 0, fullRun()))));
    }
    // 1. One event deleted: a seq gap.
    await asSuperuser(t.db, `DELETE FROM ${t.db.qs}.run_events WHERE run_id = $1 AND seq = 5`, [gap]);
    // ... and its projection tampered with too: issue 20 item 13, both must be reported.
    await t.db.pool.query(`UPDATE ${t.db.qs}.steps SET result = '{"from": "tampered"}' WHERE run_id = $1 AND name = 'extract'`, [
      gap,
    ]);
    // 2. A step result forged in place: a hash mismatch.
    await asSuperuser(
      t.db,
      `UPDATE ${t.db.qs}.run_events SET payload = '{"result": {"from": "forged"}}' WHERE run_id = $1 AND seq = 4`,
      [edited],
    );
    // 3. An event appended after the run ended, with a correctly chained hash: an illegal event.
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.run_events (run_id, seq, type, payload, occurred_at, writer, event_id, hash)
       SELECT $1, 10, 'run.cancelled', '{"reason": "late", "by": "x"}', now(), 'mallory', gen_random_uuid(), 'x'::bytea`,
      [appended],
    );
    await asSuperuser(
      t.db,
      `UPDATE ${t.db.qs}.run_events e SET hash = ${t.db.qs}.event_hash(p.hash, e.run_id, e.seq, e.type, e.step_name, e.attempt,
              e.payload, e.occurred_at, e.writer, e.event_id)
         FROM ${t.db.qs}.run_events p WHERE e.run_id = $1 AND e.seq = 10 AND p.run_id = e.run_id AND p.seq = 9`,
      [appended],
    );
  }, 120_000);
  afterAll(async () => {
    await h.dispose();
    await t.dispose();
  });

  it('verify reports all three damaged runs, with seq and what differs, and exits 1', async () => {
    const r = await h.cli(['verify', '--json'], { schema: t.schema });
    expectExit(r, 1);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as VerifyDoc;
    expect(doc.ok).toBe(false);
    expect(doc.runsChecked).toBe(100);
    expect(doc.brokenRuns).toEqual([gap, edited, appended]);
    expect(doc.problems.map((p) => [p.runId, p.seq, p.kind])).toEqual([
      [gap, 6, 'seq gap'],
      [gap, null, 'projection differs'],
      [edited, 4, 'hash mismatch'],
      [appended, 10, 'illegal event'],
    ]);
    expect(doc.problems[0]!.detail).toBe('seq 5 is missing');
    expect(doc.problems[1]!.detail).toBe(
      'steps[extract].result: table has {"from":"tampered"}, journal says {"from":"extract"} (settled by seq 4, before the damage)',
    );
    expect(doc.problems[3]!.detail).toMatch(/run\.cancelled: run already ended \(success\)/);

    const text = await h.cli(['verify'], { schema: t.schema });
    expectExit(text, 1);
    expect(text.lines).toEqual(
      expect.arrayContaining([
        `✗ run ${gap} seq 6: seq gap: seq 5 is missing`,
        expect.stringMatching(new RegExp(`^✗ run ${edited} seq 4: hash mismatch: `)),
        expect.stringMatching(new RegExp(`^✗ run ${appended} seq 10: illegal event: `)),
        '4 problem(s) in 3 of 100 run(s) checked',
      ]),
    );
  });

  it('verify of healthy runs exits 0; verify of one damaged run reports it', async () => {
    expectExit(await h.cli(['verify', ids[0] as string, ids[1] as string], { schema: t.schema }), 0);
    const r = await h.cli(['verify', edited, '--json'], { schema: t.schema });
    expectExit(r, 1);
    expect((JSON.parse(r.stdout) as VerifyDoc).problems.map((p) => p.kind)).toEqual(['hash mismatch']);
  });

  it('rebuild-projections repairs healthy runs, names the damaged ones and leaves their rows untouched', async () => {
    const before = await Promise.all([gap, edited, appended].map(projectionRows));
    // Damage a healthy run's projection: the rebuild must repair that one.
    await t.db.pool.query(`UPDATE ${t.db.qs}.runs SET status = 'failed' WHERE id = $1`, [ids[3]]);

    const r = await h.cli(['rebuild-projections'], { schema: t.schema });
    expectExit(r, 1);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        '✓ Rebuilt projections of 97 run(s); removed 0 orphan row(s)',
        `✗ Skipped run ${gap} seq 6: seq gap: seq 5 is missing`,
        expect.stringMatching(new RegExp(`^✗ Skipped run ${edited} seq 4: hash mismatch`)),
        expect.stringMatching(new RegExp(`^✗ Skipped run ${appended} seq 10: illegal event`)),
      ]),
    );
    expect(await Promise.all([gap, edited, appended].map(projectionRows))).toEqual(before);
    expect((await projectionRows(ids[3] as string)).run[0]).toMatchObject({ status: 'success' });
    // The projection still holds the untampered result.
    const load = before[1]!.steps.find((s: { name: string }) => s.name === 'extract') as { result: unknown };
    expect(load.result).toEqual({ from: 'extract' });
  });

  it('with --include-broken, a damaged run is rebuilt from its verified prefix and the forged event is not copied', async () => {
    const r = await h.cli(['rebuild-projections', '--include-broken', '--json'], { schema: t.schema });
    expectExit(r, 0);
    expect(JSON.parse(r.stdout)).toEqual({ runsRebuilt: 100, orphansRemoved: 0, skipped: [] });
    const rows = await projectionRows(edited);
    expect(rows.run[0]).toMatchObject({ last_seq: 3, status: 'running' });
    expect(rows.steps.map((s: { name: string; status: string; result: unknown }) => [s.name, s.status, s.result])).toEqual([
      ['extract', 'running', null],
      ['transform', 'pending', null],
      ['load', 'pending', null],
    ]);
  });

  it('an orphan step row and an unknown run id are reported', async () => {
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.steps (run_id, name, step_index, status, attempt_count) VALUES ('ghost', 'a', 0, 'running', 1)`,
    );
    // Repeating --schema keeps its last value, even on a command with a variadic argument.
    const r = await h.cli(['--schema', 'nowhere', 'verify', 'ghost', 'no-such-run', '--json', '--schema', t.schema], {
      schema: false,
    });
    expectExit(r, 1);
    expect((JSON.parse(r.stdout) as VerifyDoc).problems).toEqual([
      { runId: 'ghost', seq: null, kind: 'orphan step row', detail: 'steps[a] has no runs row and no journal events' },
      { runId: 'no-such-run', seq: null, kind: 'unknown run', detail: 'no journal events and no projection rows' },
    ]);
    const all = JSON.parse((await h.cli(['verify', '--json'], { schema: t.schema })).stdout) as VerifyDoc;
    expect(all.problems.filter((p) => p.runId === 'ghost').map((p) => p.kind)).toEqual(['orphan step row']);
  });
});
