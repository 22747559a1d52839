/**
 * A role's or a server's `statement_timeout` / `lock_timeout` can cancel an append that was only
 * unlucky (here: it waits on a row lock another session holds). The transaction is rolled back
 * whole, so the append is retried within the retry budget and succeeds once the lock is gone,
 * instead of failing the run ("could not journal the run's progress: Database error 57014").
 */
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import type { RunEvent } from '../../src/events/runEvents';
import { appendEvents, appendToRun } from '../../src/journal/appendEvents';
import { formatError } from '../../src/errors';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('append_timeouts');
});
afterAll(async () => t.dispose());

const created: RunEvent = {
  type: 'run.created',
  payload: { pipelineId: 'etl', steps: ['a'], definitionHash: 'h1', metadata: {}, triggeredBy: 'test' },
};
const claimed: RunEvent = { type: 'run.claimed', payload: { worker: 'w1' } };

/** A pool on the test schema whose sessions carry `setting` (as `ALTER ROLE … SET` would give them). */
const withSetting = (setting: string): Database => {
  const u = new URL(t.url);
  u.searchParams.set('options', `-c ${setting}`);
  const opened = openDatabase({ url: u.toString(), schema: t.schema, max: 2, applicationName: `timeouts-${t.schema}` });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  return opened.right;
};

/** Sessions of that pool waiting on a lock right now. */
const waiting = async (): Promise<number> =>
  (
    await t.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [`timeouts-${t.schema}`],
    )
  ).rows[0]?.n ?? 0;

describe('an append cancelled by a timeout', () => {
  it.each([['statement_timeout=300'], ['lock_timeout=300']])(
    'is retried within the budget (%s) and lands once the lock is released',
    async (setting) => {
      const runId = `timeouts-${setting.split('=')[0]}`;
      const first = expectRight(await appendEvents(t.db, runId, 0, [created, claimed]));
      const db = withSetting(setting);
      const locker = await t.db.pool.connect();
      try {
        await locker.query('BEGIN');
        await locker.query(`SELECT 1 FROM ${t.db.qs}.runs WHERE id = $1 FOR UPDATE`, [runId]);
        const appended = appendToRun(db, {
          runId,
          expectedSeq: first.lastSeq,
          state: first.state,
          writer: 'w1',
          events: [{ type: 'step.started', stepName: 'a', attempt: 1, payload: {} }],
        });
        // The append waits on the lock, is cancelled by the timeout, and waits again: a retry.
        await waitFor(async () => (await waiting()) > 0, { what: 'the append to wait on the lock' });
        await waitFor(async () => (await waiting()) === 0, { what: 'the timeout to cancel it' });
        await waitFor(async () => (await waiting()) > 0, { what: 'the append to be retried' });
        await locker.query('COMMIT');
        const r = await appended;
        expect(E.isRight(r) ? r.right.lastSeq : formatError(r.left)).toBe(3);
      } finally {
        await locker.query('ROLLBACK').catch(() => undefined);
        locker.release();
        await closeDatabase(db);
      }
    },
    90_000,
  );
});
