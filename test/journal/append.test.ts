import * as E from 'fp-ts/Either';
import { appendEvents, appendToRun } from '../../src/journal/appendEvents';
import { readRunEvents, streamRunEvents } from '../../src/journal/readEvents';
import { loadRunState } from '../../src/journal/loadRunState';
import { checkProjections } from '../../src/projections/checkProjections';
import type { JsonValue } from '../../src/events/json';
import type { RunEvent } from '../../src/events/runEvents';
import { PENDING_EPOCH } from '../../src/journal/pendingTime';
import { appendRunEvents, type AppendRunEventsCall } from '../../src/queries/appendEvents';
import { createTestDatabase, expectLeft, expectRight, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('journal');
});
afterAll(async () => t.dispose());

const created = (steps = ['extract', 'transform', 'load']): RunEvent => ({
  type: 'run.created',
  payload: { pipelineId: 'etl', steps, definitionHash: 'h1', metadata: { batch: 7 }, triggeredBy: 'test' },
});
const claimed: RunEvent = { type: 'run.claimed', payload: { worker: 'w1' } };
let counter = 0;
const newRunId = () => `run-${process.pid}-${++counter}`;

describe('appending to the journal', () => {
  it('writes events with seq from 1 and keeps the projections equal to the fold', async () => {
    const runId = newRunId();
    const first = expectRight(await appendEvents(t.db, runId, 0, [created(), claimed]));
    expect(first.lastSeq).toBe(2);
    const second = expectRight(
      await appendToRun(t.db, {
        runId,
        expectedSeq: 2,
        state: first.state,
        writer: 'w1',
        events: [{ type: 'step.started', stepName: 'extract', attempt: 1, payload: {} }],
      }),
    );
    expectRight(
      await appendToRun(t.db, {
        runId,
        expectedSeq: 3,
        state: second.state,
        writer: 'w1',
        events: [
          {
            type: 'step.failed',
            stepName: 'extract',
            attempt: 1,
            payload: { error: { name: 'Error', message: 'boom' }, retryable: true },
          },
          { type: 'step.retry_scheduled', stepName: 'extract', attempt: 1, payload: { delayMs: 1500 } },
        ],
      }),
    );
    const events = expectRight(await readRunEvents(t.db, runId));
    expect(events.map((e) => [e.seq, e.event.type])).toEqual([
      [1, 'run.created'],
      [2, 'run.claimed'],
      [3, 'step.started'],
      [4, 'step.failed'],
      [5, 'step.retry_scheduled'],
    ]);
    const state = expectRight(await loadRunState(t.db, runId));
    const extract = state.steps[0];
    expect(extract?.status).toBe('retrying');
    expect(Date.parse(extract?.nextRetryAt ?? '') - Date.parse(events[4]?.occurredAt ?? '')).toBe(1500);
    const report = expectRight(await checkProjections(t.db, [runId]));
    expect(report.differences).toEqual([]);
  });

  it('the in-memory state after an append equals a replay of the journal', async () => {
    const runId = newRunId();
    const a = expectRight(await appendEvents(t.db, runId, 0, [created(['only']), claimed]));
    const b = expectRight(
      await appendToRun(t.db, {
        runId,
        expectedSeq: 2,
        state: a.state,
        writer: 'w1',
        events: [{ type: 'step.started', stepName: 'only', attempt: 1, payload: {} }],
      }),
    );
    expect(b.state).toEqual(expectRight(await loadRunState(t.db, runId)));
  });

  it('two concurrent appends with the same expected seq leave one winner and one ConcurrencyConflict', async () => {
    const runId = newRunId();
    const base = expectRight(await appendEvents(t.db, runId, 0, [created(), claimed]));
    const attempt = (worker: string) =>
      appendToRun(t.db, {
        runId,
        expectedSeq: 2,
        state: base.state,
        writer: worker,
        events: [{ type: 'step.started', stepName: 'extract', attempt: 1, payload: {} }],
      });
    const results = await Promise.all([attempt('a'), attempt('b'), attempt('c'), attempt('d')]);
    const winners = results.filter(E.isRight);
    const losers = results.filter(E.isLeft).map((r) => r.left);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(3);
    for (const l of losers) expect(l).toEqual({ _tag: 'ConcurrencyConflict', runId, expectedSeq: 2, actualSeq: 3 });
    expect(expectRight(await readRunEvents(t.db, runId))).toHaveLength(3);
  });

  it('two writers creating the same run id: one wins, the other gets a conflict', async () => {
    const runId = newRunId();
    const results = await Promise.all([appendEvents(t.db, runId, 0, [created()]), appendEvents(t.db, runId, 0, [created()])]);
    expect(results.filter(E.isRight)).toHaveLength(1);
    expect(expectLeft(results.find(E.isLeft) ?? E.right(0))).toMatchObject({ _tag: 'ConcurrencyConflict', actualSeq: 1 });
  });

  it('an event the fold rejects is an IllegalTransition and nothing is written', async () => {
    const runId = newRunId();
    const base = expectRight(await appendEvents(t.db, runId, 0, [created(), claimed]));
    const bad = await appendToRun(t.db, {
      runId,
      expectedSeq: 2,
      state: base.state,
      writer: 'w1',
      events: [{ type: 'step.succeeded', stepName: 'extract', attempt: 1, payload: { result: null } }],
    });
    expect(expectLeft(bad)).toMatchObject({ _tag: 'IllegalTransition', runId, seq: 3, type: 'step.succeeded' });
    expect(expectRight(await readRunEvents(t.db, runId))).toHaveLength(2);
  });

  it('appending to an unknown run is RunNotFound', async () => {
    const r = await appendEvents(t.db, 'no-such-run', 3, [claimed]);
    expect(expectLeft(r)).toEqual({ _tag: 'RunNotFound', runId: 'no-such-run' });
  });

  // An ambiguous commit: the COMMIT reached the server, the reply did not. The executor retries
  // the same call (same expected seq, same event ids); the function must find its events through
  // (run_id, seq) and report them, never write them twice or call it a conflict.
  const fresh = (runId: string, ids: string[]): AppendRunEventsCall => ({
    runId,
    expectedSeq: 0,
    writer: 'w',
    eventIds: ids.slice(0, 1),
    types: ['run.created'],
    stepNames: [null],
    attempts: [null],
    payloads: [(created(['a', 'b']) as { payload: JsonValue }).payload],
    status: 'pending',
    finishedAt: null,
    owner: null,
    error: null,
    recoveryCount: 0,
    lastEventAt: PENDING_EPOCH,
    stepRows: [],
    stepStatus: [],
    stepStarted: [],
    stepFinished: [],
    stepAttempts: [],
    stepErrors: [],
    stepResults: [],
    stepNextRetry: [],
    notify: false,
    created: { pipeline_id: 'etl', triggered_by: 'test', metadata: { batch: 7 }, definition_hash: 'h1', step_names: ['a', 'b'] },
  });
  const claimAndStart = (runId: string, ids: string[]): AppendRunEventsCall => ({
    ...fresh(runId, ids),
    expectedSeq: 1,
    eventIds: ids,
    types: ['run.claimed', 'step.started'],
    stepNames: [null, 'a'],
    attempts: [null, 1],
    payloads: [{ worker: 'w1' }, {}],
    status: 'running',
    owner: 'w1',
    stepRows: ['a'],
    stepStatus: ['running'],
    stepStarted: [PENDING_EPOCH],
    stepFinished: [null],
    stepAttempts: [1],
    stepErrors: [null],
    stepResults: [null],
    stepNextRetry: [null],
    created: null,
  });
  const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  it('a retried creation whose first try committed is recognised by its event id, not written twice', async () => {
    const runId = newRunId();
    const firstTry = await appendRunEvents(t.db, fresh(runId, [uuid(1)]));
    const retry = await appendRunEvents(t.db, fresh(runId, [uuid(1)]));
    expect(firstTry).toMatchObject({ outcome: 'ok', last_seq: 1 });
    expect(retry).toMatchObject({ outcome: 'duplicate', last_seq: 1 });
    expect(retry?.committed_at).toEqual(firstTry?.committed_at);
    const count = await t.db.pool.query(`SELECT count(*)::int AS n FROM ${t.db.qs}.run_events WHERE run_id = $1`, [runId]);
    expect(count.rows[0].n).toBe(1);
  });

  it('a retried append of several events is found through (run_id, seq) and its last event id', async () => {
    const runId = newRunId();
    expect(await appendRunEvents(t.db, fresh(runId, [uuid(11)]))).toMatchObject({ outcome: 'ok' });
    const firstTry = await appendRunEvents(t.db, claimAndStart(runId, [uuid(12), uuid(13)]));
    const retry = await appendRunEvents(t.db, claimAndStart(runId, [uuid(12), uuid(13)]));
    expect(firstTry).toMatchObject({ outcome: 'ok', last_seq: 3 });
    expect(retry).toMatchObject({ outcome: 'duplicate', last_seq: 3 });
    expect(retry?.committed_at).toEqual(firstTry?.committed_at);
    const rows = await t.db.pool.query<{ seq: number; event_id: string }>(
      `SELECT seq, event_id FROM ${t.db.qs}.run_events WHERE run_id = $1 ORDER BY seq`,
      [runId],
    );
    expect(rows.rows).toEqual([
      { seq: 1, event_id: uuid(11) },
      { seq: 2, event_id: uuid(12) },
      { seq: 3, event_id: uuid(13) },
    ]);
    expect(expectRight(await checkProjections(t.db, [runId])).differences).toEqual([]);
  });

  it('another writer at the same seq is a conflict, not a duplicate, though its seqs are taken', async () => {
    const runId = newRunId();
    expect(await appendRunEvents(t.db, fresh(runId, [uuid(21)]))).toMatchObject({ outcome: 'ok' });
    expect(await appendRunEvents(t.db, claimAndStart(runId, [uuid(22), uuid(23)]))).toMatchObject({ outcome: 'ok' });
    // Same seqs, different ids: what a second writer with a stale view sends.
    expect(await appendRunEvents(t.db, claimAndStart(runId, [uuid(24), uuid(25)]))).toMatchObject({
      outcome: 'conflict',
      last_seq: 3,
    });
    // Same last id at another seq (a different run's retry cannot collide with this one).
    expect(await appendRunEvents(t.db, claimAndStart(newRunId(), [uuid(22), uuid(23)]))).toMatchObject({
      outcome: 'conflict',
      last_seq: null,
    });
  });

  it('streams a long history in batches, in order', async () => {
    const runId = newRunId();
    const names = Array.from({ length: 30 }, (_, i) => `s${i}`);
    let s = expectRight(await appendEvents(t.db, runId, 0, [created(names), claimed]));
    for (const name of names) {
      s = expectRight(
        await appendToRun(t.db, {
          runId,
          expectedSeq: s.lastSeq,
          state: s.state,
          writer: 'w1',
          events: [
            { type: 'step.started', stepName: name, attempt: 1, payload: {} },
            { type: 'step.succeeded', stepName: name, attempt: 1, payload: { result: { name } } },
          ],
        }),
      );
    }
    const seqs: number[] = [];
    let batches = 0;
    for await (const batch of streamRunEvents(t.db, runId, { batchSize: 7 })) {
      batches += 1;
      for (const e of expectRight(batch)) seqs.push(e.seq);
    }
    expect(seqs).toEqual(Array.from({ length: 62 }, (_, i) => i + 1));
    expect(batches).toBe(9);
  });
});
