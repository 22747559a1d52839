import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { formatError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import { newRunId } from '../../src/executor/runId';
import { appendEvents, appendToRun, type Appended } from '../../src/journal/appendEvents';
import { verifyRun } from '../../src/audit/verifyRun';
import { loadMigrations, migrate } from '../../src/migrations/migrate';
import { claimed, created, runSucceeded, started, succeeded } from '../support/eventBuilders';
import { expectLeft, expectRight, testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';

/*
 * Issue 22 item 5: migration 014 turns a populated journal into one partitioned by run id (a month
 * of Orbit run ids per partition, a DEFAULT partition for other ids, the old table attached as it
 * is), keeping every event, position and hash, and every invariant: per-run chain, seq fence,
 * append-only triggers on the partitioned table and on each partition, no direct INSERT.
 */

const PARTITIONED = 14;

let db: Database;
const at = (iso: string) => newRunId({ now: () => new Date(iso).getTime() });
const oldRun = at('2025-03-10T12:00:00Z'); // created long before the migration
const userRun = 'order-42'; // a user-given id below the first month's partition
const highRun = `zz-${process.pid}`; // a user-given id above it: moved to the DEFAULT partition
const openRun = at('2025-04-01T08:00:00Z'); // unfinished at the migration, continued after it
const futureRun = at('2031-02-03T00:00:00Z'); // a month with its own partition

const steps = ['a', 'b'];
const finished: RunEvent[] = [
  created(steps),
  claimed(),
  started('a'),
  succeeded('a'),
  started('b'),
  succeeded('b'),
  runSucceeded(),
];

const build = async (runId: string, events: readonly RunEvent[]): Promise<Appended> =>
  expectRight(await appendEvents(db, runId, 0, events));

const rows = async () =>
  (
    await db.pool.query<{ position: string; run_id: string; seq: number; hash: string; part: string }>(
      `SELECT position::text, run_id, seq, encode(hash, 'hex') AS hash, tableoid::regclass::text AS part
         FROM ${db.qs}.run_events ORDER BY position`,
    )
  ).rows;

const sqlError = async (sql: string): Promise<{ code?: string; message: string }> => {
  try {
    await db.pool.query(sql);
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error(`expected to fail: ${sql}`);
};

let before: Awaited<ReturnType<typeof rows>>;
let open: Appended;

beforeAll(async () => {
  const opened = openDatabase({ url: testDatabaseUrl(), schema: uniqueSchemaName('part'), max: 4 });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  db = opened.right;
  // The schema as the version before partitioning left it, with runs in it.
  const older = (await loadMigrations()).filter((m) => m.version < PARTITIONED);
  expectRight(await migrate(db, older));
  for (const id of [oldRun, userRun, highRun]) await build(id, finished);
  open = await build(openRun, [created(steps), claimed(), started('a')]);
  before = await rows();
  expect(expectRight(await migrate(db)).applied).toEqual(
    (await loadMigrations()).filter((m) => m.version >= PARTITIONED).map((m) => m.name),
  );
}, 60_000);

afterAll(async () => {
  await db.pool.query(`DROP SCHEMA IF EXISTS ${db.qs} CASCADE`).catch(() => undefined);
  await closeDatabase(db);
});

describe('partitioned journal (migration 014)', () => {
  it('keeps every event of a populated journal, with its position and hash, in a partition of its id', async () => {
    const after = await rows();
    expect(after.map(({ part: _p, ...r }) => r)).toEqual(before.map(({ part: _p, ...r }) => r));
    const partOf = (id: string) => new Set(after.filter((r) => r.run_id === id).map((r) => r.part));
    for (const id of [oldRun, userRun, openRun])
      expect(partOf(id)).toEqual(new Set([`${db.schema}.run_events_before_partitioning`]));
    expect(partOf(highRun)).toEqual(new Set([`${db.schema}.run_events_default`]));
    const kind = await db.pool.query<{ relkind: string }>(
      `SELECT relkind FROM pg_class WHERE oid = '${db.qs}.run_events'::regclass`,
    );
    expect(kind.rows[0]?.relkind).toBe('p');
    for (const id of [oldRun, userRun, highRun, openRun]) expect(expectRight(await verifyRun(db, id)).verified).toBe(true);
  });

  it('continues a run from before the migration, after the old positions, and routes new ids by month', async () => {
    const done = expectRight(
      await appendToRun(db, {
        runId: openRun,
        expectedSeq: open.lastSeq,
        state: open.state,
        writer: 'w2',
        events: [succeeded('a'), started('b'), succeeded('b'), runSucceeded()],
      }),
    );
    expect(done.lastSeq).toBe(7);
    // A month far ahead gets its partition from the owner function (the migration makes 13 months).
    await db.pool.query(`SELECT ${db.qs}.journal_add_partitions('2031-02-01T00:00:00Z', 1)`);
    await build(futureRun, finished);
    const after = await rows();
    const oldMax = Math.max(...before.map((r) => Number(r.position)));
    expect(after.filter((r) => r.run_id === openRun && r.seq > 3).every((r) => Number(r.position) > oldMax)).toBe(true);
    expect(new Set(after.filter((r) => r.run_id === futureRun).map((r) => r.part))).toEqual(
      new Set([`${db.schema}.run_events_2031_02`]),
    );
    for (const id of [openRun, futureRun]) expect(expectRight(await verifyRun(db, id)).verified).toBe(true);
    // The seq fence: a stale expected seq is a conflict, and the (run_id, seq) key refuses a second event at a seq.
    const stale = await appendToRun(db, {
      runId: openRun,
      expectedSeq: 3,
      state: open.state,
      writer: 'w3',
      events: [succeeded('a')],
    });
    expect(expectLeft(stale)._tag).toBe('ConcurrencyConflict');
    const dup = await sqlError(
      `INSERT INTO ${db.qs}.run_events (run_id, seq, type, writer, event_id, hash)
       VALUES ('${futureRun}', 2, 'run.claimed', 'x', gen_random_uuid(), '\\x00')`,
    );
    expect(dup.code).toBe('23505');
  });

  it('stays append-only through the partitioned table and through each partition', async () => {
    for (const table of ['run_events', 'run_events_before_partitioning', 'run_events_default', 'run_events_2031_02']) {
      const t = `${db.qs}.${table}`;
      for (const sql of [`UPDATE ${t} SET writer = 'x'`, `DELETE FROM ${t}`, `TRUNCATE ${t}`]) {
        const e = await sqlError(sql);
        expect([e.code, e.message]).toEqual(['42501', expect.stringMatching(/run_events is append-only/)]);
      }
    }
    expect(await rows()).toHaveLength(before.length + 4 + finished.length);
  });

  it('creates monthly partitions ahead only through the owner function, skipping months that exist', async () => {
    const made = await db.pool.query<{ p: string }>(
      `SELECT p FROM ${db.qs}.journal_add_partitions('2031-01-15T00:00:00Z', 3) AS p`,
    );
    expect(made.rows.map((r) => r.p)).toEqual(['run_events_2031_01', 'run_events_2031_03']);
    const grantees = await db.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
        WHERE p.oid = '${db.qs}.journal_add_partitions(timestamptz, integer)'::regprocedure AND a.grantee <> p.proowner`,
    );
    expect(grantees.rows[0]?.n).toBe('0');
  });
});
