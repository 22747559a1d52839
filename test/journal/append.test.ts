import * as E from 'fp-ts/Either';
import { appendEvents, appendToRun } from '../../src/journal/appendEvents';
import { readRunEvents, streamRunEvents } from '../../src/journal/readEvents';
import { loadRunState } from '../../src/journal/loadRunState';
import { checkProjections } from '../../src/projections/checkProjections';
import type { RunEvent } from '../../src/events/runEvents';
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

  it('a retried append whose first try committed is recognised by its event ids, not written twice', async () => {
    const runId = newRunId();
    const events = JSON.stringify([
      {
        event_id: '00000000-0000-4000-8000-000000000001',
        type: 'run.created',
        step_name: null,
        attempt: null,
        payload: (created() as { payload: unknown }).payload,
      },
    ]);
    const run = JSON.stringify({
      id: runId,
      pipeline_id: 'etl',
      status: 'pending',
      triggered_by: null,
      metadata: {},
      definition_hash: 'h',
      step_names: ['a'],
      started_at: '0001-01-01T00:00:00.000Z',
      finished_at: null,
      owner: null,
      error: null,
      recovery_count: 0,
      last_seq: 1,
      last_event_at: '0001-01-01T00:00:00.000Z',
    });
    const call = () =>
      t.db.pool.query(`SELECT * FROM ${t.db.qs}.append_events($1, 0, 'w', $2, $3, '[]', false)`, [runId, events, run]);
    const firstTry = await call();
    const retry = await call();
    expect(firstTry.rows[0]).toMatchObject({ outcome: 'ok', last_seq: 1 });
    expect(retry.rows[0]).toMatchObject({ outcome: 'duplicate', last_seq: 1 });
    expect(retry.rows[0].committed_at).toEqual(firstTry.rows[0].committed_at);
    const count = await t.db.pool.query(`SELECT count(*)::int AS n FROM ${t.db.qs}.run_events WHERE run_id = $1`, [runId]);
    expect(count.rows[0].n).toBe(1);
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
