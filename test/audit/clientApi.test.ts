/**
 * The public audit functions (src/api/) take an OrbitClient, not the pool: a library user
 * audits, compares and exports runs with what `connect()` gives, and an export verifies.
 */
import * as E from 'fp-ts/Either';
import { auditJournal, definePipeline, diffRuns, exportRuns, followRun, runPipeline, verifyExport } from '../../src/index';
import { createTestClient, type TestClient } from '../support/testClient';

const pipeline = definePipeline({
  name: 'audit-api',
  steps: [
    { name: 'count', handler: (ctx) => ({ success: true, data: { n: Number(ctx.metadata?.n ?? 0) } }) },
    { name: 'done', handler: () => ({ success: true }) },
  ],
});

describe('auditJournal, diffRuns, exportRuns and followRun with a client', () => {
  let tc: TestClient;
  const ids: string[] = [];
  beforeAll(async () => {
    tc = await createTestClient({ prefix: 'auditapi' });
    for (const n of [1, 2]) {
      const r = await runPipeline(pipeline, { n }, { client: tc.client });
      if (E.isLeft(r)) throw new Error(r.left._tag);
      ids.push(r.right.runId);
    }
  });
  afterAll(async () => tc.dispose());

  it('auditJournal checks the runs and finds nothing wrong', async () => {
    const r = await auditJournal({ client: tc.client });
    expect(r).toEqual(E.right({ runsChecked: 2, problems: [], brokenRuns: [] }));
  });

  it('diffRuns puts the two runs side by side and finds where their results differ', async () => {
    const r = await diffRuns(ids[0]!, ids[1]!, { client: tc.client });
    if (E.isLeft(r)) throw new Error(r.left._tag);
    expect(r.right.steps.map((s) => [s.step, s.sameResult, s.firstDifference])).toEqual([
      ['count', false, '$.n'],
      ['done', true, null],
    ]);
    const unknown = await diffRuns(ids[0]!, 'no-such-run', { client: tc.client });
    expect(E.isLeft(unknown) && unknown.left).toEqual({ _tag: 'RunNotFound', runId: 'no-such-run' });
  });

  it('exportRuns yields every event with its hash, and the export verifies', async () => {
    const lines: string[] = [];
    for await (const batch of exportRuns({ runIds: ids }, { client: tc.client })) {
      if (E.isLeft(batch)) throw new Error(batch.left._tag);
      lines.push(...batch.right.map((e) => JSON.stringify(e)));
    }
    expect(lines.length).toBeGreaterThanOrEqual(2 * 7);
    const report = await verifyExport(
      (async function* () {
        yield* lines;
      })(),
    );
    expect(report).toMatchObject({ runsChecked: 2, eventsChecked: lines.length, problems: [], brokenRuns: [] });
    const missing: string[] = [];
    for await (const batch of exportRuns({ runIds: ['no-such-run'] }, { client: tc.client })) {
      if (E.isLeft(batch)) missing.push(batch.left._tag);
    }
    expect(missing).toEqual(['RunNotFound']);
  });
  it("followRun delivers a live run's events in order as they are written, and returns when it ends", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = definePipeline({
      name: 'audit-api-follow',
      steps: [
        { name: 'wait', handler: async () => (await gate, { success: true }) },
        { name: 'after', handler: () => ({ success: true }) },
      ],
    });
    const runId = 'follow-live-1';
    const running = runPipeline(slow, {}, { client: tc.client, runId });
    const seen: string[] = [];
    const followed = followRun(runId, {
      client: tc.client,
      pollMs: 50,
      onEvent: (e) => {
        seen.push(`${e.seq}:${e.event.type}`);
        // The run is followed while it is still running: release it once its first step started.
        if (e.event.type === 'step.started') release();
      },
    });
    expect(E.isRight(await running)).toBe(true);
    const r = await followed;
    expect(r).toEqual(E.right({ ended: true, lastSeq: seen.length }));
    expect(seen).toEqual([
      '1:run.created',
      '2:run.claimed',
      '3:step.started',
      '4:step.succeeded',
      '5:step.started',
      '6:step.succeeded',
      '7:run.succeeded',
    ]);
  });

  it('followRun after a seq delivers only later events, and stops (not ended) when its signal aborts', async () => {
    const tail: number[] = [];
    const done = await followRun(ids[0]!, { client: tc.client, afterSeq: 5, onEvent: (e) => tail.push(e.seq) });
    expect(done).toEqual(E.right({ ended: true, lastSeq: 7 }));
    expect(tail).toEqual([6, 7]);

    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const none: number[] = [];
    const r = await followRun('not-created-yet', {
      client: tc.client,
      signal: stop.signal,
      pollMs: 50,
      onEvent: (e) => none.push(e.seq),
    });
    expect(r).toEqual(E.right({ ended: false, lastSeq: 0 }));
    expect(none).toEqual([]);
  });
});
