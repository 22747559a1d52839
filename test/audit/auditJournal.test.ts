import { auditJournal } from '../../src/audit/auditJournal';
import type { Database } from '../../src/db/database';
import { appendEvents } from '../../src/journal/appendEvents';
import { claimed, created, started, succeeded } from '../support/eventBuilders';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';

/* Every kind of problem is reported with its run, seq and what differs, and the audit goes on. */

const asSuperuser = async (db: Database, sql: string, values: unknown[]): Promise<void> => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(sql, values);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
};

describe('auditJournal reports every problem and goes on to the next run', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('audit');
    for (const id of ['a-undecodable', 'b-projection', 'c-clean', 'd-missing-step']) {
      expectRight(
        await appendEvents(t.db, id, 0, [created(['x', 'y']), claimed('w1'), started('x', 1), succeeded('x', 1, { n: 1 })]),
      );
    }
  });
  afterAll(async () => t.dispose());

  it('names an undecodable event, a differing projection field and a missing step row, run by run', async () => {
    // Two undecodable events in one run: both are named (the audit does not stop at the first).
    await asSuperuser(
      t.db,
      `UPDATE ${t.db.qs}.run_events SET type = 'step.exploded' WHERE run_id = 'a-undecodable' AND seq IN (3, 4)`,
      [],
    );
    await t.db.pool.query(`UPDATE ${t.db.qs}.steps SET attempt_count = 7 WHERE run_id = 'b-projection' AND name = 'x'`);
    await t.db.pool.query(`DELETE FROM ${t.db.qs}.steps WHERE run_id = 'd-missing-step' AND name = 'y'`);

    const report = expectRight(await auditJournal(t.db));
    expect(report.runsChecked).toBe(4);
    expect(report.brokenRuns).toEqual(['a-undecodable']);
    expect(report.problems.map((p) => [p.runId, p.seq, p.kind])).toEqual([
      ['a-undecodable', 3, 'hash mismatch'],
      ['a-undecodable', 3, 'undecodable event'],
      ['a-undecodable', 4, 'hash mismatch'],
      ['a-undecodable', 4, 'undecodable event'],
      ['b-projection', null, 'projection differs'],
      ['d-missing-step', null, 'projection row missing'],
    ]);
    expect(report.problems[1]!.detail).toBe('step.exploded: field type: unknown event type');
    expect(report.problems[4]!.detail).toBe('steps[x].attempt_count: table has 7, journal says 1');
  });
});
