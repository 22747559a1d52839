/**
 * A worker claims only runs it can execute (issue 20 item 2): with 5 runs queued by version 1 of a
 * pipeline and 10 by version 2, a version-2 worker executes the 10 with few claim rounds (one
 * query each), never touches the 5, and the 5 are reported as waiting for a worker with their
 * definition (worker event, listStrandedRuns, orbit workers, orbit check-interrupted). An
 * interrupted run of a pipeline the worker does not have is reported once and never attempted.
 */
import * as E from 'fp-ts/Either';
import { listStrandedRuns } from '../../src/api/listStrandedRuns';
import { startWorker, type WorkerEvent } from '../../src/api/startWorker';
import { formatError } from '../../src/errors';
import { enqueueRun } from '../../src/executor/queue';
import { prepareRun } from '../../src/executor/runPipeline';
import { appendToRun } from '../../src/journal/appendEvents';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createE2eHarness, expectExit, sleep, type E2eHarness } from '../support/cli';

const ok = async () => ({ success: true as const });
const v1 = definePipeline({ name: 'deploy', steps: [{ name: 'build', handler: ok }] });
const v2 = definePipeline({
  name: 'deploy',
  steps: [
    { name: 'build', handler: ok },
    { name: 'ship', handler: ok },
  ],
});
const other = definePipeline({ name: 'other-team', steps: [{ name: 'only', handler: ok }] });

describe('a worker claims only what it can execute', () => {
  let h: E2eHarness;
  let old: OrbitClient;
  let current: OrbitClient;

  const client = async (...pipelines: (typeof v1)[]): Promise<OrbitClient> => {
    const registry = createRegistry();
    for (const p of pipelines) registry.registerPipeline(p);
    const c = await connect({ databaseUrl: h.url, schema: h.schema, registry, thresholdMs: 500 });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    return c.right;
  };

  beforeAll(async () => {
    h = await createE2eHarness('q_stranded');
    old = await client(v1, other);
    current = await client(v2);
  });
  afterAll(async () => {
    await old.close();
    await current.close();
    await h.dispose();
  });

  it('5 runs of version 1 and 10 of version 2, one version-2 worker: the 10 run, the 5 wait and are reported', async () => {
    expect(v1.definitionHash).not.toBe(v2.definitionHash);
    const oldIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const q = await enqueueRun('deploy', { i }, { client: old });
      if (E.isLeft(q)) throw new Error(formatError(q.left));
      oldIds.push(q.right.runId);
    }
    for (let i = 0; i < 10; i++) {
      const q = await enqueueRun('deploy', { i }, { client: current });
      if (E.isLeft(q)) throw new Error(formatError(q.left));
    }
    // A run of a pipeline the worker does not have, created outside the queue and never claimed:
    // interrupted once the (0.5 s) threshold passes.
    const foreign = await prepareRun('other-team', {}, { client: old }, 'cli');
    if (E.isLeft(foreign)) throw new Error(formatError(foreign.left));
    const created = await appendToRun(old.db, {
      runId: foreign.right.runId,
      expectedSeq: 0,
      state: null,
      events: foreign.right.events.filter((e) => e.type === 'run.created'),
      writer: old.workerId,
    });
    if (E.isLeft(created)) throw new Error(formatError(created.left));

    const events: WorkerEvent[] = [];
    const w = await startWorker({ client: current, concurrency: 4, thresholdMs: 500, onEvent: (e) => events.push(e) });
    if (E.isLeft(w)) throw new Error(formatError(w.left));
    try {
      const succeeded = async () =>
        (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE status = 'success'`)).rows[0]?.n;
      await h.waitFor('the 10 version-2 runs to succeed', async () => (await succeeded()) === 10, 30_000);
      // Three more seconds: a worker that spun on the version-1 runs would make thousands of rounds.
      await sleep(3000);
      const rounds = events.filter((e) => e.kind === 'claim-round').length;
      const executed = events.filter((e) => e.kind === 'executed');
      process.stdout.write(`claim rounds: ${rounds}, executed: ${executed.length}\n`);
      expect(executed.map((e) => e.kind === 'executed' && e.status)).toEqual(Array(10).fill('success'));
      expect(rounds).toBeLessThanOrEqual(15);

      const pending = await h.pool.query<{ id: string }>(
        `SELECT id FROM ${h.qs}.runs WHERE status = 'pending' AND pipeline_id = 'deploy'`,
      );
      expect(pending.rows.map((r) => r.id).sort()).toEqual([...oldIds].sort());
      const claimedOld = await h.pool.query(`SELECT 1 FROM ${h.qs}.run_events WHERE type = 'run.claimed' AND run_id = ANY ($1)`, [
        oldIds,
      ]);
      expect(claimedOld.rowCount).toBe(0);

      // The worker's log: the 5 are stranded (reported once, at start; nothing changed since).
      const stranded = events.filter((e) => e.kind === 'stranded');
      expect(stranded).toEqual([
        {
          kind: 'stranded',
          stranded: [
            expect.objectContaining({
              pipelineId: 'deploy',
              definitionHash: v1.definitionHash,
              runs: 5,
              liveDefinitions: [v2.definitionHash],
            }),
          ],
        },
      ]);
      // The foreign run: reported once, never attempted.
      expect(events.filter((e) => e.kind === 'unexecutable')).toEqual([
        { kind: 'unexecutable', runId: foreign.right.runId, pipelineId: 'other-team' },
      ]);
      expect(events.filter((e) => e.kind === 'attempt' || e.kind === 'outcome')).toEqual([]);

      const listed = await listStrandedRuns({ client: current });
      expect(E.isRight(listed) && listed.right.map((s) => [s.pipelineId, s.definitionHash, s.runs])).toEqual([
        ['deploy', v1.definitionHash, 5],
      ]);
      const workers = await h.cli(['workers'], { pipelines: false });
      expectExit(workers, 0);
      expect(workers.stdout).toContain(
        `5 queued runs of deploy@${v1.definitionHash.slice(0, 8)} wait for a worker that has this definition (live workers have deploy@${v2.definitionHash.slice(0, 8)}`,
      );
      const check = await h.cli(['check-interrupted'], { pipelines: false });
      expectExit(check, 0);
      expect(check.stdout).toContain('Queued runs no live worker can execute');
      expect(check.stdout).toContain(`5 queued runs of deploy@${v1.definitionHash.slice(0, 8)} wait for a worker`);
    } finally {
      await w.right.stop();
    }
    // No live worker at all: every queued run is stranded, and says so.
    const none = await listStrandedRuns({ client: current });
    expect(E.isRight(none) && none.right.map((s) => [s.runs, s.liveDefinitions])).toEqual([[5, []]]);
  }, 60_000);
});
