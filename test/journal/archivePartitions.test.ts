import { mkdtempSync, rmSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunEvent } from '../../src/events/runEvents';
import { newRunId } from '../../src/executor/runId';
import { appendEvents } from '../../src/journal/appendEvents';
import { archiveRuns } from '../../src/archive/archiveRuns';
import { separateArchived } from '../../src/archive/archivedRuns';
import { auditJournal } from '../../src/audit/auditJournal';
import { importRuns } from '../../src/audit/importRuns';
import { verifyExport } from '../../src/audit/verifyExport';
import { verifyRun } from '../../src/audit/verifyRun';
import { claimed, created, runSucceeded, started, succeeded } from '../support/eventBuilders';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';

/*
 * Issue 22 item 5: `orbit archive` drops a past month's journal partition whole when every run in
 * it is archived, and removes the other runs row by row; the ledger, `verify` and `import` work
 * the same either way.
 */

let t: TestDatabase;
let root: string;
const at = (iso: string) => newRunId({ now: () => new Date(iso).getTime() });
const may = [1, 2, 3].map((d) => at(`2025-05-0${d}T10:00:00Z`)); // all finished: the partition goes
const juneDone = at('2025-06-02T10:00:00Z'); // finished, but June keeps an unfinished run
const juneOpen = at('2025-06-03T10:00:00Z');
const userRun = `order-${process.pid}`; // the DEFAULT partition
const mayOrphan = at('2025-05-04T10:00:00Z'); // a steps row with no run: in May's range, goes with it
const aug = at('2025-08-02T10:00:00Z'); // finished, alone in August
const augOrphan = at('2025-08-03T10:00:00Z'); // a runs row with no journal: keeps August
const finished: RunEvent[] = [created(['a']), claimed(), started('a'), succeeded('a'), runSucceeded()];

const partitions = async (): Promise<string[]> =>
  (
    await t.db.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = '${t.db.qs}.run_events'::regclass ORDER BY 1`,
    )
  ).rows.map((r) => r.name);

const count = async (sql: string, ids: readonly string[]) =>
  Number((await t.db.pool.query<{ n: string }>(sql.replace(/\$S/g, t.db.qs), [ids])).rows[0]?.n);

beforeAll(async () => {
  t = await createTestDatabase('archpart');
  root = mkdtempSync(path.join(tmpdir(), 'orbit-archpart-'));
  // A journal partitioned since before May 2025: those months have their partitions.
  await t.db.pool.query(`SELECT ${t.db.qs}.journal_add_partitions('2025-05-01T00:00:00Z', 2)`);
  await t.db.pool.query(`SELECT ${t.db.qs}.journal_add_partitions('2025-08-01T00:00:00Z', 1)`);
  for (const id of [...may, juneDone, userRun]) expectRight(await appendEvents(t.db, id, 0, finished));
  await t.db.pool.query(
    `INSERT INTO ${t.db.qs}.steps (run_id, name, step_index, status, attempt_count) VALUES ($1, 'a', 0, 'success', 1)`,
    [mayOrphan],
  );
  expectRight(await appendEvents(t.db, juneOpen, 0, [created(['a']), claimed(), started('a')]));
}, 60_000);

afterAll(async () => {
  await t.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('orbit archive by partition', () => {
  it('drops a month whose runs are all archived, removes the others row by row, and records every run', async () => {
    expect(await partitions()).toEqual(expect.arrayContaining(['run_events_2025_05', 'run_events_2025_06']));
    const dir = path.join(root, 'a');
    const r = expectRight(await archiveRuns(t.db, { finishedBefore: { at: new Date('2999-01-01T00:00:00Z') }, dir }));
    expect(r.droppedPartitions).toEqual([
      { name: 'run_events_2025_05', runs: 3, events: 3 * finished.length, bytes: expect.any(Number) },
    ]);
    expect(r.droppedPartitions[0]?.bytes).toBeGreaterThan(0);
    expect(r).toMatchObject({ runs: 5, removedRuns: 5, removedEvents: 5 * finished.length, changed: [] });
    const names = await partitions();
    expect(names).not.toContain('run_events_2025_05');
    expect(names).toContain('run_events_2025_06');
    const archived = [...may, juneDone, userRun];
    expect(await count('SELECT count(*) AS n FROM $S.run_events WHERE run_id = ANY($1)', archived)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM $S.runs WHERE id = ANY($1)', archived)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM $S.steps WHERE run_id = ANY($1)', archived)).toBe(0);
    // The projections went by May's run-id range: no row of that month is left, the orphan included.
    const [lo, hi] = [at('2025-05-01T00:00:00Z'), at('2025-06-01T00:00:00Z')];
    expect(
      await count('SELECT count(*) AS n FROM $S.steps WHERE run_id >= ($1::text[])[1] AND run_id < ($1::text[])[2]', [lo, hi]),
    ).toBe(0);
    expect(await count('SELECT count(*) AS n FROM $S.runs WHERE id >= ($1::text[])[1] AND id < ($1::text[])[2]', [lo, hi])).toBe(
      0,
    );
    expect(await count('SELECT count(*) AS n FROM $S.steps WHERE run_id = ANY($1)', [juneOpen])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM $S.archived_runs($1)', archived)).toBe(archived.length);
    expect(expectRight(await verifyRun(t.db, juneOpen)).verified).toBe(true);

    // The runs come back (into the DEFAULT partition: May has none now) and verify.
    const lines = () => createInterface({ input: createReadStream(path.join(dir, 'runs.ndjson'), 'utf8'), crlfDelay: Infinity });
    const report = await verifyExport(lines(), { requireManifest: true, keep: true });
    expect(report.problems).toEqual([]);
    expectRight(await importRuns(t.db, report));
    for (const id of archived) expect(expectRight(await verifyRun(t.db, id)).verified).toBe(true);
  });

  it('keeps a partition whose runs are not exactly the ones given, changing nothing; the runtime role may not call it', async () => {
    const before = await count('SELECT count(*) AS n FROM $S.run_events WHERE run_id = ANY($1)', [juneDone, juneOpen]);
    const kept = await t.db.pool.query<{ outcome: string }>(
      `SELECT outcome FROM ${t.db.qs}.archive_drop_partition($1, 'x', 'run_events_2025_06', $2, $3, $4)`,
      ['0'.repeat(64), [juneDone], [finished.length], ['\\x00']],
    );
    expect(kept.rows).toEqual([{ outcome: 'kept' }]);
    expect(await partitions()).toContain('run_events_2025_06');
    expect(await count('SELECT count(*) AS n FROM $S.run_events WHERE run_id = ANY($1)', [juneDone, juneOpen])).toBe(before);
    const grantees = await t.db.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
        WHERE p.oid = '${t.db.qs}.archive_drop_partition(text, text, text, text[], integer[], bytea[])'::regprocedure
          AND a.grantee <> p.proowner`,
    );
    expect(grantees.rows[0]?.n).toBe('0');
  });

  it('keeps a partition whose range holds a runs row not given; drops it, projections by range, once the range matches', async () => {
    expectRight(await appendEvents(t.db, aug, 0, finished));
    const head = await t.db.pool.query<{ hash: Buffer }>(
      `SELECT hash FROM ${t.db.qs}.run_events WHERE run_id = $1 AND seq = $2`,
      [aug, finished.length],
    );
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.runs (id, pipeline_id, status, metadata, definition_hash, step_names, started_at, recovery_count, last_seq, last_event_at)
       VALUES ($1, 'etl', 'success', '{}', 'def-1', '["a"]', now(), 0, 1, now())`,
      [augOrphan],
    );
    const drop = () =>
      t.db.pool.query<{ outcome: string; runs: number; events: string }>(
        `SELECT outcome, runs, events::text FROM ${t.db.qs}.archive_drop_partition($1, 'x', 'run_events_2025_08', $2, $3, $4)`,
        ['0'.repeat(64), [aug], [finished.length], [head.rows[0]?.hash]],
      );
    expect((await drop()).rows).toEqual([{ outcome: 'kept', runs: 0, events: '0' }]);
    expect(await partitions()).toContain('run_events_2025_08');
    expect(await count('SELECT count(*) AS n FROM $S.runs WHERE id = ANY($1)', [aug, augOrphan])).toBe(2);
    expect(await count('SELECT count(*) AS n FROM $S.archived_runs($1)', [aug])).toBe(0);

    await t.db.pool.query(`DELETE FROM ${t.db.qs}.runs WHERE id = $1`, [augOrphan]);
    expect((await drop()).rows).toEqual([{ outcome: 'dropped', runs: 1, events: String(finished.length) }]);
    expect(await partitions()).not.toContain('run_events_2025_08');
    expect(await count('SELECT count(*) AS n FROM $S.runs WHERE id = ANY($1)', [aug])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM $S.steps WHERE run_id = ANY($1)', [aug])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM $S.archived_runs($1)', [aug])).toBe(1);
    // verify: archived, not missing.
    const audit = expectRight(await auditJournal(t.db, [aug]));
    const sorted = expectRight(await separateArchived(t.db, audit.problems));
    expect(sorted.problems).toEqual([]);
    expect(sorted.archived.map((a) => a.runId)).toEqual([aug]);
  });

  it('the ledger takes a sha256 in lower-case hex as its manifest digest and nothing else', async () => {
    const insert = (digest: string) =>
      t.db.pool.query(
        `INSERT INTO ${t.db.qs}.archive_ledger (run_id, events, last_seq, head_hash, manifest_digest, location)
         VALUES ('digest-check', 1, 1, '\\x00', $1, 'x')`,
        [digest],
      );
    for (const bad of [
      '',
      'a'.repeat(63),
      'a'.repeat(65),
      `${'a'.repeat(63)}g`,
      `${'a'.repeat(63)}A`,
      `${'a'.repeat(62)}\n0`,
      'é'.repeat(64),
    ]) {
      await expect(insert(bad)).rejects.toMatchObject({ code: '23514' });
    }
    await expect(insert('0123456789abcdef'.repeat(4))).resolves.toMatchObject({ rowCount: 1 });
  });
});
