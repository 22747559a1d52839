/**
 * The public audit functions (src/auditApi.ts) take an OrbitClient, not the pool: a library user
 * audits, compares and exports runs with what `connect()` gives, and an export verifies.
 */
import * as E from 'fp-ts/Either';
import { auditJournal, definePipeline, diffRuns, exportRuns, runPipeline, verifyExport } from '../../src/index';
import { createTestClient, type TestClient } from '../support/testClient';

const pipeline = definePipeline({
  name: 'audit-api',
  steps: [
    { name: 'count', handler: (ctx) => ({ success: true, data: { n: Number(ctx.metadata?.n ?? 0) } }) },
    { name: 'done', handler: () => ({ success: true }) },
  ],
});

describe('auditJournal, diffRuns and exportRuns with a client', () => {
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
});
