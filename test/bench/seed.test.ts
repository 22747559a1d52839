/**
 * The benchmark's bulk seed (scripts/bench/seed.ts): S3 drops the journal's secondary indexes and
 * unique constraints while it seeds millions of events, then rebuilds them. A seed that left the
 * schema different from what migrations made would make every later figure (and the journal's
 * uniqueness guarantees) wrong, so this checks the schema comes back identical, also when the
 * seed fails, and that seeded runs pass the library's own chain and projection checks.
 */
import { Client } from 'pg';
import { checkSeededRuns } from '../../scripts/bench/check';
import { installSeedFunctions, seedJournal, withIndexesDeferred } from '../../scripts/bench/seed';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase';

const TABLES = ['run_events', 'runs', 'steps'];

let t: TestDatabase;
let pg: Client;

beforeAll(async () => {
  t = await createTestDatabase('bench_seed');
  pg = new Client({ connectionString: t.url });
  await pg.connect();
  await installSeedFunctions(pg, t.schema);
});

afterAll(async () => {
  await pg.end();
  await t.dispose();
});

/** Every index and constraint definition of the three tables, sorted. */
const schemaShape = async (): Promise<string[]> => {
  const rows = await pg.query<{ def: string }>(
    `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = ANY ($2)
     UNION ALL
     SELECT conname || ': ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
       JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
      WHERE n.nspname = $1 AND r.relname = ANY ($2)`,
    [t.schema, TABLES],
  );
  return rows.rows.map((r) => r.def).sort();
};

const indexCount = async (table: string): Promise<number> =>
  Number((await pg.query(`SELECT count(*) AS n FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`, [t.schema, table])).rows[0].n);

const seed = (from: number, to: number) =>
  seedJournal(pg, t.schema, {
    from,
    to,
    prefix: 'seed',
    shape: { mode: 'linear', pipeline: 'bench-seed', steps: 3 },
    lastSeqSql: `CASE WHEN g % 2 = 0 THEN 5 ELSE 9 END`,
    doneSql: `g % 2 = 1`,
    ownerSql: `'bench-dead-worker'`,
    baseSql: `now() - interval '1 day'`,
    spacingMs: 1000,
  });

it('seeds with only the primary keys in place (the journal has none), then rebuilds every index and constraint as migrated', async () => {
  const before = await schemaShape();
  expect(before.some((d) => d.includes('run_events_run_seq_key'))).toBe(true);
  const during = await withIndexesDeferred(pg, t.schema, TABLES, async () => {
    const counts = { run_events: await indexCount('run_events'), steps: await indexCount('steps') };
    const written = await seed(1, 41);
    return { counts, written };
  });
  // Only primary keys stay; the partitioned journal has none (position is an ordinary index since migration 014).
  expect(during.counts).toEqual({ run_events: 0, steps: 1 });
  // 20 finished runs of 3 steps (9 events) and 20 stopped after 1 step with the second in flight (5).
  expect(during.written).toBe(20 * 9 + 20 * 5);
  expect(await schemaShape()).toEqual(before);
  await checkSeededRuns(t.db, ['seed-00000001', 'seed-00000002', 'seed-00000040']);
  // The rebuilt unique constraints are enforced again.
  const dup = await pg
    .query(
      `INSERT INTO "${t.schema}".run_events (run_id, seq, type, payload, writer, event_id, hash)
       SELECT run_id, seq, type, payload, writer, gen_random_uuid(), hash FROM "${t.schema}".run_events WHERE run_id = 'seed-00000001' AND seq = 1`,
    )
    .then(
      () => null,
      (err: { code?: string; constraint?: string }) => err,
    );
  // Reported by the partition's index (run_events_default_run_id_seq_key), a child of run_events_run_seq_key.
  expect(dup).toMatchObject({ code: '23505', constraint: expect.stringMatching(/run_(id_)?seq_key$/) });
});

it('rebuilds the indexes when the seed fails', async () => {
  const before = await schemaShape();
  await expect(
    withIndexesDeferred(pg, t.schema, TABLES, async () => {
      throw new Error('seed broke');
    }),
  ).rejects.toThrow('seed broke');
  expect(await schemaShape()).toEqual(before);
});
