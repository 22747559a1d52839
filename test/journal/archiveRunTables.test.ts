import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunEvent } from '../../src/events/runEvents';
import { newRunId } from '../../src/executor/runId';
import { appendEvents } from '../../src/journal/appendEvents';
import { archiveRuns } from '../../src/archive/archiveRuns';
import { importRuns } from '../../src/audit/importRuns';
import { verifyExport } from '../../src/audit/verifyExport';
import { verifyRun } from '../../src/audit/verifyRun';
import { claimed, created, runSucceeded, started, succeeded } from '../support/eventBuilders';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';

/*
 * Issue 22 item 4: an archived run leaves no row behind in any table with a run id (dedup_keys,
 * run_priorities, delayed_runs, schedule_ticks, besides the journal, `runs` and `steps`), on both
 * removal paths (row by row, and a month's partition dropped whole). The one row kept on purpose:
 * the latest tick of a schedule, its cursor (sql/026). The archive ledger is the record of the
 * removal. After import the runs verify.
 */

let t: TestDatabase;
let root: string;
const at = (iso: string) => newRunId({ now: () => new Date(iso).getTime() });
const finished: RunEvent[] = [created(['a']), claimed(), started('a'), succeeded('a'), runSucceeded()];
// Row by row: ids outside every month (the DEFAULT partition).
const rowRuns = [1, 2, 3].map((i) => `tables-${process.pid}-${i}`);
// By partition: every run of July 2025.
const julyRuns = [1, 2, 3].map((d) => at(`2025-07-0${d}T10:00:00Z`));
const open = `tables-open-${process.pid}`;
const archived = [...rowRuns, ...julyRuns];

/** Tables of the schema with a run id column (`runs` by its id), as the catalog says now. */
const runTables = async (): Promise<{ table: string; column: string }[]> =>
  (
    await t.db.pool.query<{ table: string; column: string }>(
      `SELECT k.relname AS table, a.attname AS column FROM pg_class k
         JOIN pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE k.relnamespace = $1::text::regnamespace AND k.relkind IN ('r', 'p') AND NOT k.relispartition
          AND (a.attname = 'run_id' OR (k.relname = 'runs' AND a.attname = 'id'))
        ORDER BY 1`,
      [`"${t.db.schema}"`],
    )
  ).rows;

const rowsOf = async (ids: readonly string[]): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const { table, column } of await runTables()) {
    const r = await t.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${t.db.qs}."${table}" WHERE "${column}" = ANY($1)`,
      [ids],
    );
    out[table] = Number(r.rows[0]?.n);
  }
  return out;
};

beforeAll(async () => {
  t = await createTestDatabase('archtables');
  root = mkdtempSync(path.join(tmpdir(), 'orbit-archtables-'));
  await t.db.pool.query(`SELECT ${t.db.qs}.journal_add_partitions('2025-07-01T00:00:00Z', 1)`);
  for (const id of archived) expectRight(await appendEvents(t.db, id, 0, finished));
  expectRight(await appendEvents(t.db, open, 0, [created(['a']), claimed(), started('a')]));
  const s = await t.db.pool.query<{ id: string }>(
    `INSERT INTO ${t.db.qs}.schedules (pipeline_id, cron) VALUES ('etl', '0 * * * *'), ('etl', '30 * * * *') RETURNING id::text AS id`,
  );
  const [hourly, halfPast] = s.rows.map((r) => r.id);
  // Every archived run was queued with each queue control, and by a schedule's tick: the hourly
  // schedule's ticks are all archived runs (its latest must stay: its cursor); the half-past one's
  // latest tick is the open run (all its archived runs' ticks go).
  for (const [i, id] of archived.entries()) {
    await t.db.pool.query(`INSERT INTO ${t.db.qs}.delayed_runs (run_id, run_at) VALUES ($1, now())`, [id]);
    await t.db.pool.query(`INSERT INTO ${t.db.qs}.run_priorities (run_id, priority) VALUES ($1, $2)`, [id, i]);
    await t.db.pool.query(`INSERT INTO ${t.db.qs}.dedup_keys (pipeline_id, dedup_key, run_id) VALUES ('etl', $1, $2)`, [
      `key-${i}`,
      id,
    ]);
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.schedule_ticks (schedule_id, tick_at, run_id) VALUES ($1, $3, $4), ($2, $3, $4)`,
      [hourly, halfPast, new Date(Date.UTC(2025, 6, 10, i)).toISOString(), id],
    );
  }
  await t.db.pool.query(
    `INSERT INTO ${t.db.qs}.schedule_ticks (schedule_id, tick_at, run_id) VALUES ($1, '2025-07-11T00:00:00Z', $2)`,
    [halfPast, open],
  );
  await t.db.pool.query(`INSERT INTO ${t.db.qs}.dedup_keys (pipeline_id, dedup_key, run_id) VALUES ('etl', 'open', $1)`, [open]);
}, 60_000);

afterAll(async () => {
  await t.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('orbit archive leaves no per-run rows', () => {
  it('removes the runs rows of every table with a run id, on both paths, keeping only a schedule cursor', async () => {
    const before = await rowsOf(archived);
    // The catalog's list is the list this test checks: a new table with a run id is checked too.
    expect(Object.keys(before).sort()).toEqual(
      ['archive_ledger', 'dedup_keys', 'delayed_runs', 'run_events', 'run_priorities', 'runs', 'schedule_ticks', 'steps'].sort(),
    );
    expect(before).toMatchObject({ dedup_keys: 6, delayed_runs: 6, run_priorities: 6, schedule_ticks: 12 });
    const openBefore = await rowsOf([open]);

    const dir = path.join(root, 'a');
    const r = expectRight(await archiveRuns(t.db, { finishedBefore: { at: new Date('2999-01-01T00:00:00Z') }, dir }));
    expect(r).toMatchObject({ runs: 6, removedRuns: 6, changed: [] });
    expect(r.droppedPartitions.map((p) => p.name)).toEqual(['run_events_2025_07']);

    const after = await rowsOf(archived);
    // The ledger records each archived run; the hourly schedule's latest tick stays as its cursor.
    expect(after).toEqual({
      archive_ledger: 6,
      dedup_keys: 0,
      delayed_runs: 0,
      run_events: 0,
      run_priorities: 0,
      runs: 0,
      schedule_ticks: 1,
      steps: 0,
    });
    const cursor = await t.db.pool.query<{ run_id: string; tick_at: Date; last: Date }>(
      `SELECT t.run_id, t.tick_at, (SELECT max(x.tick_at) FROM ${t.db.qs}.schedule_ticks x WHERE x.schedule_id = t.schedule_id) AS last
         FROM ${t.db.qs}.schedule_ticks t WHERE t.run_id = ANY($1)`,
      [archived],
    );
    expect(cursor.rows).toHaveLength(1);
    expect(cursor.rows[0]?.tick_at).toEqual(cursor.rows[0]?.last);
    // Nothing of the unfinished run went.
    expect(await rowsOf([open])).toEqual(openBefore);

    const lines = () => createInterface({ input: createReadStream(path.join(dir, 'runs.ndjson'), 'utf8'), crlfDelay: Infinity });
    const report = await verifyExport(lines(), { requireManifest: true, keep: true });
    expect(report.problems).toEqual([]);
    expectRight(await importRuns(t.db, report));
    for (const id of archived) expect(expectRight(await verifyRun(t.db, id)).verified).toBe(true);
  });
});
