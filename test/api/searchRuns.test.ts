import * as E from 'fp-ts/Either';
import type { QueryConfig } from 'pg';
import { runPipeline } from '../../src/api/runPipeline';
import { searchRuns } from '../../src/api/searchRuns';
import type { Database } from '../../src/db/database';
import { definePipeline } from '../../src/index';
import { listRunPage } from '../../src/queries/listRunPage';
import { searchTerms } from '../../src/projections/searchTerms';
import { createTestClient, type TestClient } from '../support/testClient';

/*
 * The runs page's search (docs/UI.md, `searchRuns({ search })`): what it matches, what it does not,
 * and that it is answered from runs_by_metadata_value (sql/022) and the primary key rather than
 * by walking every run (10.9 s at a million runs before the index).
 */

let tc: TestClient;

// Rows straight into the projection (as the UI bench seeds them): the search reads only `runs`.
const seed = async (rows: readonly { id: string; metadata: unknown; ageSecs: number }[]): Promise<void> => {
  await tc.client.db.pool.query(
    `INSERT INTO ${tc.client.db.qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
            finished_at, owner, error, recovery_count, last_seq, last_event_at)
     SELECT x.id, 'seeded', 'success', null, x.metadata, 'h', '["a"]', now() - make_interval(secs => x.age), now(), null, null, 0, 2, now()
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, metadata jsonb, age int)`,
    [JSON.stringify(rows.map((r) => ({ id: r.id, metadata: r.metadata, age: r.ageSecs })))],
  );
};

beforeAll(async () => {
  tc = await createTestClient({ prefix: 'search' });
  await seed([
    { id: 'run_a', metadata: { customer: 'c-42', region: 'eu' }, ageSecs: 10 },
    { id: 'run_b', metadata: { customer: 'c-420', region: 'us', order: 42 }, ageSecs: 20 },
    { id: 'run_c', metadata: { owner: 'c-42', vip: true, price: 1.5 }, ageSecs: 30 },
    { id: 'run_d', metadata: { note: '50%_off "quoted" \\ back', eq: 'a=b', code: '042' }, ageSecs: 40 },
    { id: 'run_e', metadata: { nested: { customer: 'c-42' }, tags: ['c-42'], n: null }, ageSecs: 50 },
    { id: 'run_f', metadata: ['c-42'], ageSecs: 60 },
    { id: 'run_g', metadata: 'c-42', ageSecs: 70 },
    { id: 'run_h', metadata: { order: '42', long: 'x'.repeat(5000) }, ageSecs: 80 },
  ]);
});
afterAll(async () => tc.dispose());

const found = async (search: string): Promise<string[]> => {
  const page = await searchRuns({ client: tc.client, search, limit: 100 });
  if (E.isLeft(page)) throw new Error(page.left._tag);
  return page.right.runs.map((r) => r.runId);
};

describe('searchRuns({ search })', () => {
  it('finds a top-level string value exactly, whatever the key, and nothing nested or partial', async () => {
    expect(await found('c-42')).toEqual(['run_a', 'run_c']);
    expect(await found('c-4')).toEqual([]);
    expect(await found('C-42')).toEqual([]);
    expect(await found('  eu  ')).toEqual(['run_a']);
  });

  it('matches numbers as numbers and booleans as booleans, besides their text', async () => {
    expect(await found('42')).toEqual(['run_b', 'run_h']);
    expect(await found('42.0')).toEqual(['run_b']);
    expect(await found('1.50')).toEqual(['run_c']);
    expect(await found('true')).toEqual(['run_c']);
    // Not a JSON number: only the string "042" has it.
    expect(await found('042')).toEqual(['run_d']);
    expect(await found('null')).toEqual([]);
  });

  it('finds key=value, and still the whole text as a value', async () => {
    expect(await found('customer=c-42')).toEqual(['run_a']);
    expect(await found('owner = c-42')).toEqual(['run_c']);
    expect(await found('order=42')).toEqual(['run_b', 'run_h']);
    expect(await found('region=c-42')).toEqual([]);
    expect(await found('a=b')).toEqual(['run_d']);
    expect(await found('eq=a=b')).toEqual(['run_d']);
    expect(await found('=c-42')).toEqual([]);
  });

  it('takes LIKE wildcards, quotes, backslashes and long values literally', async () => {
    expect(await found('50%_off "quoted" \\ back')).toEqual(['run_d']);
    expect(await found('50%')).toEqual([]);
    expect(await found('%')).toEqual([]);
    expect(await found('_')).toEqual([]);
    expect(await found('x'.repeat(5000))).toEqual(['run_h']);
    expect(await found('x'.repeat(4999))).toEqual([]);
    expect(await found('1e99999')).toEqual([]);
    expect(await found('a\u0000b')).toEqual([]);
    expect(await found('\ud800')).toEqual([]);
  });

  it('finds a run id exactly', async () => {
    expect(await found('run_e')).toEqual(['run_e']);
    expect(await found('run_')).toEqual([]);
  });

  it('finds a run created through the append path by its metadata', async () => {
    const p = definePipeline({ name: 'search-flow', steps: [{ name: 'only', handler: () => ({ success: true }) }] });
    tc.registry.registerPipeline(p);
    const ran = await runPipeline(p, { ticket: 'T-9001' }, { client: tc.client });
    if (E.isLeft(ran)) throw new Error(ran.left._tag);
    expect(await found('T-9001')).toEqual([ran.right.runId]);
    expect(await found('ticket=T-9001')).toEqual([ran.right.runId]);
  });

  it('is answered from runs_by_metadata_value and the primary key, not by walking the runs', async () => {
    // Enough rows that walking them is dearer than the index, and statistics that say so.
    await seed(
      Array.from({ length: 3000 }, (_, i) => ({
        id: `run_bulk_${i}`,
        metadata: { customer: `bulk-${i % 1000}` },
        ageSecs: 100 + i,
      })),
    );
    await tc.client.db.pool.query(`ANALYZE ${tc.client.db.qs}.runs`);
    // The page's own statement and parameters, explained: the pool of a copy of the client's database.
    const db = tc.client.db;
    const explaining: Database = {
      ...db,
      pool: {
        query: (cfg: QueryConfig) => db.pool.query({ ...cfg, text: `EXPLAIN (FORMAT JSON) ${cfg.text}` }),
      } as unknown as Database['pool'],
    };
    const planOf = async (text: string): Promise<string> => {
      const rows = await listRunPage(explaining, {
        status: null,
        pipelineId: null,
        search: searchTerms(text),
        beforeStartedAt: null,
        beforeId: null,
        limit: 51,
      });
      if (E.isLeft(rows)) throw new Error(rows.left._tag);
      return JSON.stringify(rows.right);
    };
    for (const text of ['c-42', '42', 'customer=c-42', 'no-such-value']) {
      const plan = await planOf(text);
      expect(plan).toContain('runs_by_metadata_value');
      expect(plan).toContain('runs_pkey');
    }
  });
});
