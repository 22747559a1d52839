/**
 * A backend terminated while its client is checked out of the pool but between two statements
 * (inside a transaction, or holding the migration lock) is an error value, not an unhandled
 * 'error' event that kills the process: the chaos harness found one during a restart (57P01).
 */
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { closeDatabase, openDatabase, withTransaction } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

it('a terminated backend between two statements of a transaction is a Left, and the process lives on', async () => {
  const opened = openDatabase({ url: testDatabaseUrl(), schema: uniqueSchemaName('checkout') });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  const db = opened.right;
  const admin = new Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  try {
    const r = await withTransaction(db, async (client) => {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      let errored = false;
      client.once('error', () => (errored = true));
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // The FATAL arrives while no statement is active: pg emits it as an 'error' event.
      await waitFor(() => errored, { what: "the terminated backend's FATAL to reach the client as an 'error' event" });
      await client.query('SELECT 1');
      return E.right('unreachable');
    });
    expect(E.isLeft(r) && r.left._tag).toBe('DatabaseUnavailable');
    // The pool still works.
    expect(E.isRight(await withTransaction(db, async (c) => E.right((await c.query('SELECT 1 AS one')).rows[0])))).toBe(true);
  } finally {
    await admin.end();
    await closeDatabase(db);
  }
});
