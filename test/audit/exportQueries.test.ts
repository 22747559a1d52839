import type { Pool } from 'pg';
import type { Database } from '../../src/db/database';
import type { ExportedEvent } from '../../src/audit/exportFormat';
import { exportRuns } from '../../src/audit/exportRuns';
import { appendEvents } from '../../src/journal/appendEvents';
import { claimed, created, runSucceeded, started, succeeded } from '../support/eventBuilders';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';

/*
 * Issue 22 item 4: an export reads runs in batches (one query per batch of run ids, their events in
 * pages of a keyset), not one query per run; named runs come out in the order named, each once,
 * and a missing name is refused before any event is read. Statements are counted through the
 * pool the export uses (real PostgreSQL; the count is of round trips, not of rows).
 */

let t: TestDatabase;
const RUNS = 600;
const ids = Array.from({ length: RUNS }, (_, i) => `xq-${process.pid}-${String(i).padStart(4, '0')}`);
const events = [created(['a']), claimed(), started('a'), succeeded('a'), runSucceeded()];

/** The database with its pool's statements counted. */
const counted = (db: Database): { db: Database; count: () => number } => {
  let n = 0;
  const pool = new Proxy(db.pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: unknown[]) => {
          n += 1;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Pool;
  return { db: { ...db, pool }, count: () => n };
};

const collect = async (db: Database, sel: Parameters<typeof exportRuns>[1]) => {
  const out: ExportedEvent[] = [];
  for await (const page of exportRuns(db, sel)) out.push(...expectRight(page));
  return out;
};

beforeAll(async () => {
  t = await createTestDatabase('exportq');
  for (const id of ids) expectRight(await appendEvents(t.db, id, 0, events));
}, 180_000);

afterAll(async () => {
  await t.dispose();
});

describe('export queries', () => {
  it('named runs: a few queries per 500 runs, in the order named, each once', async () => {
    const named = [...ids].reverse();
    const c = counted(t.db);
    const out = await collect(c.db, { runIds: [...named, named[0] as string] });
    expect(out).toHaveLength(RUNS * events.length);
    const order = out.filter((e) => e.seq === 1).map((e) => e.runId);
    expect(order).toEqual(named);
    // 2 batches: a check each, and 3000 events in pages of 2000 (one query per run before: 600).
    expect(c.count()).toBeLessThanOrEqual(8);
  });

  it('every run: keyset pages of run ids and of events', async () => {
    const c = counted(t.db);
    const out = await collect(c.db, {});
    expect(out.filter((e) => ids.includes(e.runId))).toHaveLength(RUNS * events.length);
    expect(c.count()).toBeLessThanOrEqual(10);
  });

  it('a missing name is refused before any event is read', async () => {
    const pages = [];
    for await (const page of exportRuns(t.db, { runIds: [ids[0] as string, 'no-such-run'] })) pages.push(page);
    expect(pages).toEqual([expect.objectContaining({ left: { _tag: 'RunNotFound', runId: 'no-such-run' } })]);
  });
});
