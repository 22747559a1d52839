/**
 * A lease renewal that a role's `lock_timeout` / `statement_timeout` cancels is only unlucky: the
 * upsert of the process's own row is safe to repeat. Adding a run to the lease (done before the
 * run is claimed) retries it within the retry budget instead of failing the run at birth (seen in
 * chaos R14: "canceling statement due to lock timeout" from `ExecutionEnv.acquire`, run never created).
 */
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { Lease } from '../../src/lease/lease';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('lease_timeouts');
});
afterAll(async () => t.dispose());

const withSetting = (setting: string, app: string): Database => {
  const u = new URL(t.url);
  u.searchParams.set('options', `-c ${setting}`);
  const opened = openDatabase({ url: u.toString(), schema: t.schema, max: 2, applicationName: app });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  return opened.right;
};

const waiting = async (app: string): Promise<number> =>
  (
    await t.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [app],
    )
  ).rows[0]?.n ?? 0;

describe('adding a run to the lease under a timeout', () => {
  it.each([['lock_timeout=300'], ['statement_timeout=300']])(
    'is retried within the budget (%s) and lands once the lock is released',
    async (setting) => {
      const app = `lease-${setting.split('=')[0]}-${t.schema}`.slice(0, 60);
      const db = withSetting(setting, app);
      const workerId = `w-${setting.split('=')[0]}`;
      const lease = new Lease(db, workerId, 30_000, () => undefined);
      const locker = await t.db.pool.connect();
      try {
        await lease.start();
        await locker.query('BEGIN');
        await locker.query(`SELECT 1 FROM ${t.db.qs}.workers WHERE id = $1 FOR UPDATE`, [workerId]);
        const added = lease.add('run-1');
        // The renewal waits on the row lock, is cancelled by the timeout, and waits again: a retry.
        await waitFor(async () => (await waiting(app)) > 0, { what: 'the renewal to wait on the lock' });
        await waitFor(async () => (await waiting(app)) === 0, { what: 'the timeout to cancel it' });
        await waitFor(async () => (await waiting(app)) > 0, { what: 'the renewal to be retried' });
        await locker.query('COMMIT');
        await added;
        const row = await t.db.pool.query<{ held: string[] }>(`SELECT held FROM ${t.db.qs}.workers WHERE id = $1`, [workerId]);
        expect(row.rows[0]?.held).toEqual(['run-1']);
      } finally {
        await locker.query('ROLLBACK').catch(() => undefined);
        locker.release();
        await lease.stop();
        await closeDatabase(db);
      }
    },
    90_000,
  );
});
