import { spawn } from 'node:child_process';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { formatError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import { appendBatcherFor } from '../../src/journal/appendBatcher';
import { appendEvents, appendToRun, type Appended } from '../../src/journal/appendEvents';
import { loadRunState } from '../../src/journal/loadRunState';
import { verifyJournal } from '../../src/journal/verifyJournal';
import { checkProjections } from '../../src/projections/checkProjections';
import { claimed, created, started, succeeded } from '../support/eventBuilders';
import { createTestDatabase, expectLeft, expectRight, type TestDatabase } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

/*
 * Group commit: appends that are ready while a commit is in flight share the next one. Each run
 * keeps its own outcome: a conflict, a rejected payload or a lost reply is that run's alone.
 */

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('groupcommit');
});
afterAll(async () => t.dispose());

let counter = 0;
const newRunId = (label: string) => `${label}-${process.pid}-${++counter}`;
const STEPS = ['a', 'b', 'c'];

const newRun = async (db: Database, label: string): Promise<Appended> =>
  expectRight(await appendEvents(db, newRunId(label), 0, [created(STEPS), claimed('w1')]));

const stepA = (base: Appended, result: RunEvent = succeeded('a')) =>
  ({
    runId: base.state.runId,
    expectedSeq: base.lastSeq,
    state: base.state,
    writer: 'w1',
    events: [started('a'), result],
  }) as const;

const eventCount = async (db: Database, runId: string): Promise<number> =>
  (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.qs}.run_events WHERE run_id = $1`, [runId])).rows[0]!
    .n;

/**
 * Keeps every commit slot of the pool's batcher busy (each holder's append waits on a row lock)
 * while `queueUp` runs, so what `queueUp` appends queues and forms one batch when the locks go.
 */
const withCommitsInFlight = async <A>(
  db: Database,
  label: string,
  queueUp: () => A,
): Promise<{ held: Promise<unknown>; queued: A }> => {
  const holders = await Promise.all(Array.from({ length: appendBatcherFor(db).slots }, () => newRun(db, label)));
  const blocker = await db.pool.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM ${db.qs}.runs WHERE id = ANY($1) FOR UPDATE`, [holders.map((h) => h.state.runId)]);
    const held = Promise.all(holders.map((h) => appendToRun(db, stepA(h)).then(expectRight)));
    await waitForLockWaiters(db, holders.length);
    const queued = queueUp();
    await blocker.query('COMMIT');
    return { held, queued };
  } catch (err) {
    await blocker.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    blocker.release();
  }
};

const waitForLockWaiters = async (db: Database, n: number): Promise<void> => {
  await waitFor(
    async () => {
      const r = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND datname = current_database() AND position($1 in query) > 0`,
        [db.qs],
      );
      return (r.rows[0]?.n ?? 0) >= n;
    },
    { what: `${n} appends on this schema to wait for a lock`, timeoutMs: 10_000, everyMs: 10 },
  );
};

describe('group commit', () => {
  it('sends appends that arrive during a commit as one batch, each run answered with its own result', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => newRun(t.db, 'batched')));
    const batcher = appendBatcherFor(t.db);
    let before = { ...batcher.stats };

    const { held, queued } = await withCommitsInFlight(t.db, 'holder', () => {
      before = { ...batcher.stats };
      return runs.map((r) => appendToRun(t.db, stepA(r)));
    });
    await held;
    const results = (await Promise.all(queued)).map(expectRight);

    // The four that queued behind the held commits went as one commit.
    expect({ commits: batcher.stats.commits - before.commits, appends: batcher.stats.appends - before.appends }).toEqual({
      commits: 1,
      appends: 4,
    });
    expect(results.map((r) => [r.state.runId, r.lastSeq, r.duplicate])).toEqual(runs.map((r) => [r.state.runId, 4, false]));
    // One transaction: the same commit time for all of them.
    expect(new Set(results.map((r) => r.committedAt)).size).toBe(1);
    const ids = runs.map((r) => r.state.runId);
    expect(expectRight(await verifyJournal(t.db)).filter((b) => ids.includes(b.runId))).toEqual([]);
    expect(expectRight(await checkProjections(t.db, ids)).differences).toEqual([]);
  });

  it('a lone append goes at once, alone, through the same single-run call as before', async () => {
    const run = await newRun(t.db, 'lone');
    const batcher = appendBatcherFor(t.db);
    const before = { ...batcher.stats };
    expect(expectRight(await appendToRun(t.db, stepA(run))).lastSeq).toBe(4);
    expect({ ...batcher.stats, largestBatch: 0 }).toEqual({
      ...before,
      commits: before.commits + 1,
      appends: before.appends + 1,
      largestBatch: 0,
    });
  });

  it('a run whose expected seq is stale gets its own ConcurrencyConflict while the others in its batch commit', async () => {
    const [stale, ok1, ok2] = await Promise.all([1, 2, 3].map(() => newRun(t.db, 'conflict')));
    // Another writer moves `stale` on; our copy of its state still says seq 2.
    expectRight(await appendToRun(t.db, { ...stepA(stale!), writer: 'other' }));
    const batcher = appendBatcherFor(t.db);
    const fallbacks = batcher.stats.fallbacks;

    const { held, queued } = await withCommitsInFlight(t.db, 'holder', () =>
      [stale!, ok1!, ok2!].map((r) => appendToRun(t.db, stepA(r))),
    );
    await held;
    const [conflict, r1, r2] = await Promise.all(queued);

    expect(expectLeft(conflict!)).toEqual({
      _tag: 'ConcurrencyConflict',
      runId: stale!.state.runId,
      expectedSeq: 2,
      actualSeq: 4,
    });
    expect([expectRight(r1!).lastSeq, expectRight(r2!).lastSeq]).toEqual([4, 4]);
    // A conflict is an answer, not an error: the batch was not retried run by run.
    expect(batcher.stats.fallbacks).toBe(fallbacks);
    expect(await eventCount(t.db, stale!.state.runId)).toBe(4);
    expect(expectRight(await loadRunState(t.db, stale!.state.runId)).steps[0]!.status).toBe('success');
  });

  it('a payload the server refuses fails only its own run; the rest of its batch commits', async () => {
    const [good1, poisoned, good2] = await Promise.all([1, 2, 3].map(() => newRun(t.db, 'poison')));
    // A check the server makes and the client cannot (a constraint, a trigger): it aborts the whole statement.
    await t.db.pool.query(
      `CREATE FUNCTION ${t.db.qs}.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.payload -> 'result' ? 'poison' THEN RAISE EXCEPTION 'poisoned payload' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER refuse_poison BEFORE INSERT ON ${t.db.qs}.run_events FOR EACH ROW EXECUTE FUNCTION ${t.db.qs}.refuse_poison();`,
    );
    try {
      const batcher = appendBatcherFor(t.db);
      const fallbacks = batcher.stats.fallbacks;
      const { held, queued } = await withCommitsInFlight(t.db, 'holder', () => [
        appendToRun(t.db, stepA(good1!)),
        appendToRun(t.db, stepA(poisoned!, succeeded('a', 1, { poison: true }))),
        appendToRun(t.db, stepA(good2!)),
      ]);
      await held;
      const [r1, bad, r2] = await Promise.all(queued);

      expect(batcher.stats.fallbacks).toBe(fallbacks + 1);
      expect(expectLeft(bad!)).toMatchObject({ _tag: 'DatabaseError', code: '23514' });
      expect([expectRight(r1!).lastSeq, expectRight(r2!).lastSeq]).toEqual([4, 4]);
      expect(await eventCount(t.db, poisoned!.state.runId)).toBe(2);
      const ids = [good1!, poisoned!, good2!].map((r) => r.state.runId);
      expect(expectRight(await checkProjections(t.db, ids)).differences).toEqual([]);
    } finally {
      await t.db.pool.query(`DROP TRIGGER refuse_poison ON ${t.db.qs}.run_events`);
    }
  });

  it('a batch whose COMMIT landed but whose reply was lost is found on retry, not written twice', async () => {
    // A pool of its own whose first batch reply is lost after the server committed it.
    const opened = openDatabase({ url: t.url, schema: t.schema, max: 4 });
    if (E.isLeft(opened)) throw new Error(formatError(opened.left));
    const db = opened.right;
    try {
      const runs = await Promise.all([1, 2, 3].map(() => newRun(db, 'lostreply')));
      const pool = db.pool as unknown as { query: (...args: unknown[]) => Promise<unknown> };
      const realQuery = pool.query.bind(db.pool);
      let lost = 0;
      pool.query = async (...args: unknown[]) => {
        const result = await realQuery(...args);
        const config = args[0] as { name?: string };
        if (lost === 0 && typeof config === 'object' && config.name?.startsWith('orbit.appendBatch')) {
          lost += 1;
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
        }
        return result;
      };
      const { held, queued } = await withCommitsInFlight(db, 'holder', () => runs.map((r) => appendToRun(db, stepA(r))));
      await held;
      const results = (await Promise.all(queued)).map(expectRight);

      expect(lost).toBe(1);
      expect(results.map((r) => [r.lastSeq, r.duplicate])).toEqual([
        [4, true],
        [4, true],
        [4, true],
      ]);
      for (const r of runs) expect(await eventCount(db, r.state.runId)).toBe(4);
    } finally {
      await closeDatabase(db);
    }
  });

  it('a process killed while it commits batches leaves every run with whole appends only', async () => {
    const runs = 24;
    const child = spawn(
      process.execPath,
      [
        '--require',
        path.join(__dirname, '..', 'support', 'registerTs.js'),
        path.join(__dirname, '..', 'fixtures', 'groupCommitWriter.ts'),
        t.schema,
        String(runs),
      ],
      { env: { ...process.env, DATABASE_URL: t.url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Kill once it has committed a good number of batches of several runs, while it keeps committing.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const batches = [...out.matchAll(/batches (\d+)/g)].map((m) => Number(m[1]));
        if ((batches.at(-1) ?? 0) >= 20) resolve();
      });
      child.on('exit', () => reject(new Error(`writer exited before it was killed: ${stderr}`)));
    });
    child.kill('SIGKILL');
    await exited;

    const rows = await t.db.pool.query<{ run_id: string; n: number; projected: number }>(
      `SELECT e.run_id, count(*)::int AS n, max(r.last_seq) AS projected
         FROM ${t.db.qs}.run_events e JOIN ${t.db.qs}.runs r ON r.id = e.run_id
        WHERE e.run_id LIKE 'crash-%' GROUP BY e.run_id`,
    );
    expect(rows.rows).toHaveLength(runs);
    // Two events to create a run, then appends of two events each: an odd count is a torn append.
    expect(rows.rows.filter((r) => r.n % 2 !== 0 || r.n !== r.projected)).toEqual([]);
    const ids = rows.rows.map((r) => r.run_id);
    expect(expectRight(await verifyJournal(t.db)).filter((b) => ids.includes(b.runId))).toEqual([]);
    expect(expectRight(await checkProjections(t.db, ids)).differences).toEqual([]);
  });
});
