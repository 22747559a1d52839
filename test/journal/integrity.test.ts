import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, query, type Database } from '../../src/db/database';
import { MAX_RETRY_DELAY_MS, type RunEvent } from '../../src/events/runEvents';
import { formatError } from '../../src/errors';
import { appendEvents, appendToRun, type Appended } from '../../src/journal/appendEvents';
import { loadRunState } from '../../src/journal/loadRunState';
import { readRunEvents, streamRunEvents } from '../../src/journal/readEvents';
import { verifyJournal } from '../../src/journal/verifyJournal';
import { checkProjections } from '../../src/projections/checkProjections';
import { rebuildProjections } from '../../src/audit/rebuildProjections';
import {
  claimed,
  created,
  failed,
  released,
  resumed,
  retryScheduled,
  runCancelled,
  runFailed,
  runSucceeded,
  started,
  succeeded,
} from '../support/eventBuilders';
import { createTestDatabase, expectLeft, expectRight, type TestDatabase } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';

/*
 * Invariants 1, 3 and 6 against a real PostgreSQL: the journal refuses changes, a change made
 * behind its back is found, a row that does not decode is named precisely, and the projections
 * are a cache that a rebuild reproduces byte for byte.
 */

let counter = 0;
const newRunId = (label: string) => `${label}-${process.pid}-${++counter}`;

/** Appends batches of events to a new run, one transaction per batch, as a worker would. */
const buildRun = async (db: Database, runId: string, ...batches: RunEvent[][]): Promise<Appended> => {
  let last: Appended | null = null;
  for (const events of batches) {
    last = expectRight(
      last === null
        ? await appendEvents(db, runId, 0, events)
        : await appendToRun(db, { runId, expectedSeq: last.lastSeq, state: last.state, writer: 'w1', events }),
    );
  }
  if (last === null) throw new Error('buildRun needs at least one batch');
  return last;
};

/** The run's journal rows as text, to show that nothing about them changed. */
const journalText = async (db: Database, runId: string): Promise<string[]> =>
  (
    await db.pool.query<{ j: string }>(
      `SELECT row_to_json(e)::text AS j FROM ${db.qs}.run_events e WHERE run_id = $1 ORDER BY seq`,
      [runId],
    )
  ).rows.map((r) => r.j);

/** What a superuser can do: edit the journal with the append-only triggers off, in one transaction. */
const tamper = async (db: Database, sql: string, values: unknown[]): Promise<void> => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`ALTER TABLE ${db.qs}.run_events DISABLE TRIGGER USER`);
    await client.query(sql, values);
    await client.query(`ALTER TABLE ${db.qs}.run_events ENABLE TRIGGER USER`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
};

/** The SQLSTATE of a statement that must fail. */
const sqlStateOf = async (db: Database, sql: string, values: unknown[] = []): Promise<string | undefined> => {
  try {
    await db.pool.query(sql, values);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  throw new Error(`expected the statement to fail: ${sql}`);
};

const fullRun = (steps = ['extract', 'transform', 'load']): RunEvent[][] => [
  [created(steps), claimed('w1')],
  ...steps.map((s) => [started(s, 1), succeeded(s, 1, { from: s })]),
  [runSucceeded()],
];

describe('the journal is append-only, enforced by the database', () => {
  let t: TestDatabase;
  let runId: string;
  beforeAll(async () => {
    t = await createTestDatabase('integrity');
    runId = newRunId('ro');
    await buildRun(t.db, runId, ...fullRun());
  });
  afterAll(async () => t.dispose());

  it.each([
    ['UPDATE', (qs: string) => `UPDATE ${qs}.run_events SET payload = '{"result": "forged"}' WHERE run_id = $1 AND seq = 4`],
    ['an UPDATE that changes nothing', (qs: string) => `UPDATE ${qs}.run_events SET seq = seq WHERE run_id = $1`],
    ['DELETE', (qs: string) => `DELETE FROM ${qs}.run_events WHERE run_id = $1 AND seq = 8`],
  ])('%s on run_events is rejected with SQLSTATE 42501 and the rows stay as written', async (_name, sql) => {
    const before = await journalText(t.db, runId);
    expect(await sqlStateOf(t.db, sql(t.db.qs), [runId])).toBe('42501');
    expect(await journalText(t.db, runId)).toEqual(before);
  });

  it('TRUNCATE on run_events is rejected with SQLSTATE 42501 and the rows stay as written', async () => {
    const before = await journalText(t.db, runId);
    expect(await sqlStateOf(t.db, `TRUNCATE ${t.db.qs}.run_events`)).toBe('42501');
    expect(await sqlStateOf(t.db, `TRUNCATE ${t.db.qs}.run_events CASCADE`)).toBe('42501');
    expect(await journalText(t.db, runId)).toEqual(before);
  });

  it('through the library, a refused change is a DatabaseError carrying the SQLSTATE', async () => {
    const r = await query(t.db, `DELETE FROM ${t.db.qs}.run_events WHERE run_id = $1`, [runId]);
    expect(expectLeft(r)).toMatchObject({ _tag: 'DatabaseError', code: '42501' });
    expect(await journalText(t.db, runId)).toHaveLength(9);
  });
});

describe('verifyJournal finds events changed behind the journal’s back', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('verify');
  });
  afterAll(async () => t.dispose());

  it('an untouched run verifies clean', async () => {
    const runId = newRunId('clean');
    await buildRun(t.db, runId, ...fullRun());
    expect(expectRight(await verifyJournal(t.db, runId))).toEqual([]);
  });

  it('a payload edited by a superuser is a hash mismatch at that run and seq, and only there', async () => {
    const untouched = newRunId('bystander');
    const edited = newRunId('edited');
    await buildRun(t.db, untouched, ...fullRun());
    await buildRun(t.db, edited, ...fullRun());

    await tamper(
      t.db,
      `UPDATE ${t.db.qs}.run_events SET payload = '{"result": {"from": "forged"}}' WHERE run_id = $1 AND seq = 4`,
      [edited],
    );

    // The edit is well-formed: only the hash chain can tell.
    const events = expectRight(await readRunEvents(t.db, edited));
    expect(events[3]?.event).toMatchObject({ type: 'step.succeeded', payload: { result: { from: 'forged' } } });

    expect(expectRight(await verifyJournal(t.db, edited))).toEqual([{ runId: edited, seq: 4, reason: 'hash mismatch' }]);
    expect(expectRight(await verifyJournal(t.db, untouched))).toEqual([]);
    const everything = expectRight(await verifyJournal(t.db));
    expect(everything).toContainEqual({ runId: edited, seq: 4, reason: 'hash mismatch' });
    expect(everything.filter((b) => b.runId === untouched)).toEqual([]);
  });

  it.each([
    ['writer', `writer = 'someone-else'`],
    ['occurred_at', `occurred_at = occurred_at - interval '1 hour'`],
    ['step_name', `step_name = 'transform'`],
    ['attempt', `attempt = 2`],
  ])('an edited %s is a hash mismatch', async (_column, assignment) => {
    const runId = newRunId('col');
    await buildRun(t.db, runId, ...fullRun());
    await tamper(t.db, `UPDATE ${t.db.qs}.run_events SET ${assignment} WHERE run_id = $1 AND seq = 3`, [runId]);
    expect(expectRight(await verifyJournal(t.db, runId))).toEqual([{ runId, seq: 3, reason: 'hash mismatch' }]);
  });

  it('an event deleted by a superuser shows as a seq gap at the event after it', async () => {
    const runId = newRunId('gap');
    await buildRun(t.db, runId, ...fullRun());
    await tamper(t.db, `DELETE FROM ${t.db.qs}.run_events WHERE run_id = $1 AND seq = 5`, [runId]);
    expect(expectRight(await verifyJournal(t.db, runId))).toEqual([{ runId, seq: 6, reason: 'seq gap' }]);
  });
});

describe('a journal row that does not decode', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('decode');
  });
  afterAll(async () => t.dispose());

  /**
   * Appends a row by hand (INSERT is allowed) with a correct chained hash, computed by the
   * schema's own event_hash, so the row is only undecodable, not tampered with.
   */
  const insertRaw = async (
    runId: string,
    row: { type: string; step_name: string | null; attempt: number | null; payload: unknown },
  ): Promise<number> => {
    const res = await t.db.pool.query<{ seq: number }>(
      `WITH prev AS (
         SELECT coalesce(max(seq), 0) AS seq, (SELECT hash FROM ${t.db.qs}.run_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1) AS hash
           FROM ${t.db.qs}.run_events WHERE run_id = $1),
       v AS (SELECT $1::text AS run_id, prev.seq + 1 AS seq, $2::text AS type, $3::text AS step_name, $4::integer AS attempt,
                    $5::jsonb AS payload, date_trunc('milliseconds', now()) AS occurred_at, 'by-hand'::text AS writer,
                    $6::uuid AS event_id, prev.hash AS prev_hash
               FROM prev)
       INSERT INTO ${t.db.qs}.run_events (run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id, hash)
       SELECT run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id,
              ${t.db.qs}.event_hash(prev_hash, run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id)
         FROM v
       RETURNING seq`,
      [runId, row.type, row.step_name, row.attempt, JSON.stringify(row.payload), randomUUID()],
    );
    return res.rows[0]!.seq;
  };

  /** A running run with its first step started: seq 1..3. */
  const runWithStartedStep = async (): Promise<string> => {
    const runId = newRunId('bad');
    await buildRun(t.db, runId, [created(['fetch', 'store']), claimed('w1')], [started('fetch', 1)]);
    return runId;
  };

  it.each([
    [
      'a step.succeeded without result',
      { type: 'step.succeeded', step_name: 'fetch', attempt: 1, payload: {} },
      'payload.result',
    ],
    ['a step.started with attempt null', { type: 'step.started', step_name: 'store', attempt: null, payload: {} }, 'attempt'],
    ['a step.started with no step name', { type: 'step.started', step_name: null, attempt: 2, payload: {} }, 'step_name'],
    ['an unknown event type', { type: 'step.exploded', step_name: 'fetch', attempt: 1, payload: {} }, 'type'],
    [
      'a run.released whose worker is a number',
      { type: 'run.released', step_name: null, attempt: null, payload: { worker: 42, reason: 'x' } },
      'payload.worker',
    ],
    [
      'a step.failed whose error has no message',
      { type: 'step.failed', step_name: 'fetch', attempt: 1, payload: { error: { name: 'Error' }, retryable: false } },
      'payload.error.message',
    ],
  ])('%s is an EventDecodeError naming the run, the seq and the field', async (_name, row, field) => {
    const runId = await runWithStartedStep();
    const seq = await insertRaw(runId, row);
    expect(seq).toBe(4);
    // The hash chain is intact: only decoding is at fault.
    expect(expectRight(await verifyJournal(t.db, runId))).toEqual([]);

    const expected = { _tag: 'EventDecodeError', runId, seq: 4, type: row.type, field };
    expect(expectLeft(await readRunEvents(t.db, runId))).toMatchObject(expected);
    expect(expectLeft(await loadRunState(t.db, runId))).toMatchObject(expected);
  });

  it('the error reads as one line that says which run, which seq and which field', async () => {
    const runId = await runWithStartedStep();
    await insertRaw(runId, { type: 'step.succeeded', step_name: 'fetch', attempt: 1, payload: {} });
    const message = formatError(expectLeft(await readRunEvents(t.db, runId)));
    expect(message).toContain(runId);
    expect(message).toContain('seq 4');
    expect(message).toContain('payload.result');
  });

  it('a stream of the run stops at the undecodable row with the same error', async () => {
    const runId = await runWithStartedStep();
    await insertRaw(runId, { type: 'step.started', step_name: 'store', attempt: null, payload: {} });
    const batches = [];
    for await (const batch of streamRunEvents(t.db, runId, { batchSize: 2 })) batches.push(batch);
    // The rows before it still read.
    expect(expectRight(batches[0]!).map((e) => e.seq)).toEqual([1, 2]);
    expect(expectLeft(batches[batches.length - 1]!)).toMatchObject({ _tag: 'EventDecodeError', runId, seq: 4, field: 'attempt' });
  });

  it('appending to a run with an undecodable event is refused and writes nothing', async () => {
    const runId = await runWithStartedStep();
    await insertRaw(runId, { type: 'step.succeeded', step_name: 'fetch', attempt: 1, payload: {} });
    const before = await journalText(t.db, runId);
    const r = await appendEvents(t.db, runId, 4, [started('store', 1)]);
    expect(expectLeft(r)).toMatchObject({ _tag: 'EventDecodeError', runId, seq: 4, field: 'payload.result' });
    expect(await journalText(t.db, runId)).toEqual(before);
  });
});

describe('projections are a cache of the journal', () => {
  let t: TestDatabase;
  const ids = {
    succeeded: 'proj-a-succeeded',
    cancelled: 'proj-b-cancelled',
    failed: 'proj-c-failed',
    retrying: 'proj-d-retrying',
    pending: 'proj-e-pending',
    retriedAfterFailure: 'proj-f-retried',
    released: 'proj-g-released',
  };

  const snapshot = async (): Promise<{ runs: string[]; steps: string[] }> => {
    const runs = await t.db.pool.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${t.db.qs}.runs x ORDER BY id`);
    const steps = await t.db.pool.query<{ j: string }>(
      `SELECT row_to_json(x)::text AS j FROM ${t.db.qs}.steps x ORDER BY run_id, name`,
    );
    return { runs: runs.rows.map((r) => r.j), steps: steps.rows.map((r) => r.j) };
  };

  beforeAll(async () => {
    t = await createTestDatabase('projections');
    await buildRun(
      t.db,
      ids.succeeded,
      [created(['extract', 'transform', 'load'], { metadata: { day: '2025-01-15', n: [1, 2] } }), claimed('w1')],
      [started('extract', 1)],
      [succeeded('extract', 1, { rows: 3 }), started('transform', 1)],
      [failed('transform', 1, { retryable: true }), retryScheduled('transform', 1, 250)],
      [started('transform', 2)],
      [succeeded('transform', 2, ['a', 'b']), started('load', 1)],
      [succeeded('load', 1, null), runSucceeded()],
    );
    await buildRun(
      t.db,
      ids.cancelled,
      [created(['extract', 'load']), claimed('w2')],
      [started('extract', 1)],
      [runCancelled('not needed', 'ops')],
    );
    await buildRun(
      t.db,
      ids.failed,
      [created(['extract', 'load'], { triggeredBy: null }), claimed('w3')],
      [started('extract', 1)],
      [failed('extract', 1, { retryable: false, message: 'bad input' }), runFailed('extract failed', 'extract')],
    );
    await buildRun(
      t.db,
      ids.retrying,
      [created(['extract', 'load']), claimed('w4')],
      [started('extract', 1)],
      [failed('extract', 1, { retryable: true }), retryScheduled('extract', 1, 60_000)],
    );
    await buildRun(t.db, ids.pending, [created(['only'])]);
    await buildRun(
      t.db,
      ids.retriedAfterFailure,
      [created(['extract', 'load']), claimed('w5')],
      [started('extract', 1)],
      [succeeded('extract', 1, 'x'), started('load', 1)],
      [failed('load', 1, { retryable: false }), runFailed('load failed', 'load')],
      [resumed({ by: 'operator', retryFailed: true, reason: 'retry failed' })],
      [started('load', 2)],
    );
    await buildRun(t.db, ids.released, [created(['extract']), claimed('w6')], [started('extract', 1)], [released('w6')]);
  });
  afterAll(async () => t.dispose());

  it('the projection rows equal the fold of the journal for every run', async () => {
    const report = expectRight(await checkProjections(t.db));
    expect(report.differences).toEqual([]);
    expect(report.runsChecked).toBe(Object.keys(ids).length);
  });

  it('a rebuild from the journal reproduces the runs and steps tables byte for byte', async () => {
    const before = await snapshot();
    expect(before.runs).toHaveLength(7);
    expect(before.steps.length).toBeGreaterThan(7);

    const report = expectRight(await rebuildProjections(t.db));
    expect(report).toEqual({ runsRebuilt: 7, orphansRemoved: 0, skipped: [] });

    expect(await snapshot()).toEqual(before);
  });

  it('a hand-corrupted run row is reported field by field, and a rebuild repairs it', async () => {
    const before = await snapshot();
    await t.db.pool.query(`UPDATE ${t.db.qs}.runs SET status = 'success' WHERE id = $1`, [ids.retrying]);

    const report = expectRight(await checkProjections(t.db));
    expect(report.differences).toEqual([{ runId: ids.retrying, field: 'runs.status', projected: 'success', folded: 'running' }]);

    expectRight(await rebuildProjections(t.db));
    expect(await snapshot()).toEqual(before);
    expect(expectRight(await checkProjections(t.db)).differences).toEqual([]);
  });

  it('hand-corrupted and missing step rows are reported, and a rebuild repairs them', async () => {
    const before = await snapshot();
    await t.db.pool.query(
      `UPDATE ${t.db.qs}.steps SET attempt_count = 9, result = '"forged"' WHERE run_id = $1 AND name = 'transform'`,
      [ids.succeeded],
    );
    await t.db.pool.query(`DELETE FROM ${t.db.qs}.steps WHERE run_id = $1 AND name = 'load'`, [ids.failed]);

    const report = expectRight(await checkProjections(t.db));
    expect(report.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ runId: ids.succeeded, field: 'steps[transform].attempt_count', projected: 9, folded: 2 }),
        expect.objectContaining({
          runId: ids.succeeded,
          field: 'steps[transform].result',
          projected: 'forged',
          folded: ['a', 'b'],
        }),
        expect.objectContaining({ runId: ids.failed, field: 'steps[load]' }),
      ]),
    );
    expect(report.differences).toHaveLength(3);

    expectRight(await rebuildProjections(t.db));
    expect(await snapshot()).toEqual(before);
  });

  it('a projection row with no journal behind it is reported, kept by a rebuild, removed by one that includes broken runs', async () => {
    const before = await snapshot();
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.runs (id, pipeline_id, status, metadata, definition_hash, step_names, started_at, recovery_count, last_seq, last_event_at)
       VALUES ('proj-orphan', 'etl', 'running', '{}', 'h', '["a"]', now(), 0, 3, now())`,
    );
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.steps (run_id, name, step_index, status, attempt_count) VALUES ('proj-orphan', 'a', 0, 'running', 1)`,
    );

    const report = expectRight(await checkProjections(t.db));
    expect(report.differences).toEqual([{ runId: 'proj-orphan', field: 'runs', projected: 'row', folded: 'no events' }]);

    // It may be all that is left of a deleted run: kept and named unless asked otherwise.
    expect(expectRight(await rebuildProjections(t.db))).toEqual({
      runsRebuilt: 7,
      orphansRemoved: 0,
      skipped: [{ runId: 'proj-orphan', reason: 'run proj-orphan: projection rows with no journal events behind them (kept)' }],
    });
    expect(expectRight(await rebuildProjections(t.db, { includeBroken: true }))).toEqual({
      runsRebuilt: 7,
      orphansRemoved: 2,
      skipped: [],
    });
    expect(await snapshot()).toEqual(before);
  });

  it('checkProjections with no argument visits every run, past its first page', async () => {
    // 520 more runs: more than one 500-run page of the check.
    const bulk = Array.from({ length: 520 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < bulk.length; i += 40) {
      await Promise.all(
        bulk.slice(i, i + 40).map((id) => appendEvents(t.db, id, 0, [created(['only']), claimed('bulk')]).then(expectRight)),
      );
    }
    const total = Object.keys(ids).length + bulk.length;

    const clean = expectRight(await checkProjections(t.db));
    expect(clean).toEqual({ runsChecked: total, differences: [] });

    // The last runs in id order sit on the second page; a difference there must still be found.
    const last = (await t.db.pool.query<{ id: string }>(`SELECT id FROM ${t.db.qs}.runs ORDER BY id DESC LIMIT 1`)).rows[0]!.id;
    await t.db.pool.query(`UPDATE ${t.db.qs}.runs SET owner = 'nobody' WHERE id = $1`, [last]);
    const dirty = expectRight(await checkProjections(t.db));
    expect(dirty.runsChecked).toBe(total);
    expect(dirty.differences.map((d) => [d.runId, d.field])).toEqual([[last, 'runs.owner']]);

    expect(expectRight(await rebuildProjections(t.db)).runsRebuilt).toBe(total);
    expect(expectRight(await checkProjections(t.db)).differences).toEqual([]);
  });
});

/** Waits until `n` statements on this file's schema are waiting for a lock. */
const waitForLockWaiters = async (t: TestDatabase, n: number): Promise<void> => {
  await waitFor(
    async () => {
      const r = await t.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND datname = current_database() AND position($1 in query) > 0`,
        [t.db.qs],
      );
      return (r.rows[0]?.n ?? 0) >= n;
    },
    { what: `${n} statements on this schema to wait for a lock`, timeoutMs: 10_000, everyMs: 10 },
  );
};

describe('projections stay a cache at the edges', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('edges');
  });
  afterAll(async () => t.dispose());

  it('the longest allowed retry delay is projected at the time the journal says', async () => {
    const runId = newRunId('far');
    const delayMs = MAX_RETRY_DELAY_MS;
    const appended = await buildRun(
      t.db,
      runId,
      [created(['fetch']), claimed('w1'), started('fetch', 1)],
      [failed('fetch', 1, { retryable: true }), retryScheduled('fetch', 1, delayMs)],
    );
    const due = new Date(Date.parse(appended.committedAt) + delayMs).toISOString();

    expect(expectRight(await loadRunState(t.db, runId)).steps[0]!.nextRetryAt).toBe(due);
    // The projection row and the writer's own state must say the same as the journal.
    expect({
      projectionDifferences: expectRight(await checkProjections(t.db, [runId])).differences,
      writerState: appended.state.steps[0]!.nextRetryAt,
    }).toEqual({ projectionDifferences: [], writerState: due });
  });

  it('a retry delay beyond the limit is refused before anything is written', async () => {
    const runId = newRunId('toofar');
    const base = await buildRun(t.db, runId, [created(['fetch']), claimed('w1'), started('fetch', 1)]);
    const refused = await appendToRun(t.db, {
      runId,
      expectedSeq: base.lastSeq,
      state: base.state,
      writer: 'w1',
      events: [failed('fetch', 1, { retryable: true }), retryScheduled('fetch', 1, MAX_RETRY_DELAY_MS + 1)],
    });
    expect(expectLeft(refused)).toMatchObject({ _tag: 'InvalidInput', what: 'event' });
    expect(await journalText(t.db, runId)).toHaveLength(base.lastSeq);
  });

  it('a writer whose append waits on a rebuild of its run is not told that it lost a race', async () => {
    const runId = newRunId('busy');
    const base = await buildRun(t.db, runId, [created(['fetch']), claimed('w1')]);

    // Hold the run's projection row so that the rebuild, then the append, queue behind it, in that order.
    const blocker = await t.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${t.db.qs}.runs WHERE id = $1 FOR UPDATE`, [runId]);
      const rebuild = rebuildProjections(t.db);
      await waitForLockWaiters(t, 1);
      const append = appendToRun(t.db, {
        runId,
        expectedSeq: base.lastSeq,
        state: base.state,
        writer: 'w1',
        events: [started('fetch', 1)],
      });
      await waitForLockWaiters(t, 2);
      await blocker.query('COMMIT');

      expectRight(await rebuild);
      // Nobody else wrote to the run: the append must go through, not come back as a conflict.
      expect(expectRight(await append).lastSeq).toBe(3);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('a rebuild works on a pool of a single connection', async () => {
    const runId = newRunId('single');
    await buildRun(t.db, runId, [created(['fetch']), claimed('w1')]);
    const opened = openDatabase({ url: t.url, schema: t.schema, max: 1 });
    if (E.isLeft(opened)) throw new Error(formatError(opened.left));
    try {
      const report = expectRight(await rebuildProjections(opened.right));
      expect(report.runsRebuilt).toBeGreaterThanOrEqual(1);
    } finally {
      await closeDatabase(opened.right);
    }
  });
});
