/**
 * A schedule carried by a pipeline's definition (issue 19 item 3): workers that register the
 * pipeline keep it in the database: three starting at once write one row, a changed definition
 * updates it in place, a definition without one removes it; its ticks run; a bad one is refused
 * when defined. In-process workers, each with its own client (pool, LISTEN connection, worker id).
 */
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { listSchedules, removeSchedule } from '../../src/api/schedules';
import { startWorker, type WorkerHandle } from '../../src/api/startWorker';
import { formatError } from '../../src/errors';
import { pipeline } from '../../src/pipeline/builder';
import { definePipeline, PipelineDefinitionError } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import type { PipelineSchedule } from '../../src/pipeline/types';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { createTestClient, type TestClient } from '../support/testClient';
import { waitFor } from '../support/waitFor';

let tc: TestClient;
const opened: OrbitClient[] = [];
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'defsched' });
});
afterAll(async () => {
  for (const c of opened) await c.close();
  await tc.dispose();
});

const noop = { name: 'work', handler: () => ({ success: true as const }) };
const ticking = (schedule?: PipelineSchedule) =>
  definePipeline({ name: 'ticking', steps: [noop], ...(schedule === undefined ? {} : { schedule }) });

/** A worker process's worth: its own client and registry, with `p` registered. */
const workerWith = async (p: ReturnType<typeof ticking>): Promise<WorkerHandle> => {
  const registry = createRegistry();
  registry.registerPipeline(p);
  const c = await connect({ databaseUrl: tc.url, schema: tc.schema, registry });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  opened.push(c.right);
  const w = await startWorker({ client: c.right, concurrency: 2 });
  if (E.isLeft(w)) throw new Error(formatError(w.left));
  return w.right;
};

const rows = async () =>
  (
    await tc.client.db.pool.query<{ id: string; cron: string; timezone: string; catch_up: string; definition_of: string | null }>(
      `SELECT id::text, cron, timezone, catch_up, definition_of FROM ${tc.client.db.qs}.schedules ORDER BY id`,
    )
  ).rows;

describe('a schedule on the pipeline definition', () => {
  it('is refused when defined if its cron, time zone, catch-up or metadata is wrong', () => {
    const bad = (schedule: unknown, metadata?: t.Mixed) => () =>
      definePipeline({
        name: 'bad-schedule',
        steps: [noop],
        schedule: schedule as PipelineSchedule,
        ...(metadata === undefined ? {} : { metadata }),
      });
    expect(bad({ cron: '61 * * * *' })).toThrow(PipelineDefinitionError);
    expect(bad({ cron: '61 * * * *' })).toThrow(
      /Invalid pipeline definition "bad-schedule": schedule: "61 \* \* \* \*" is not a cron/,
    );
    expect(bad({ cron: '* * * * *', timezone: 'Mars/Olympus' })).toThrow(/schedule: "Mars\/Olympus" is not a time zone/);
    expect(bad({ cron: '* * * * *', catchUp: 'all' })).toThrow(/schedule: "all" is not a catch-up policy/);
    expect(bad({ cron: '* * * * *', metadata: [1] })).toThrow(/schedule: metadata must be a JSON object/);
    expect(bad({ cron: '* * * * *', metadata: { n: 'x' } }, t.type({ n: t.number }))).toThrow(
      /schedule: metadata does not match the pipeline's metadata codec/,
    );
    expect(bad('0 9 * * *')).toThrow(/schedule: must be an object/);
    // The builder takes it as a pipeline option, checked the same way.
    expect(() =>
      pipeline('b', { schedule: { cron: 'nope' } })
        .step('a', () => 1)
        .build(),
    ).toThrow(/schedule: "nope" is not a cron/);
    const ok = pipeline('b', { schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } })
      .step('a', () => 1)
      .build();
    expect(ok.schedule).toEqual({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' });
    // Not part of the definition hash: a schedule changes when runs start, not what a run is.
    expect(ticking({ cron: '* * * * *' }).definitionHash).toBe(ticking().definitionHash);
  });

  it('three workers starting at once write one row; its ticks run; a changed definition updates it; one without removes it', async () => {
    const every = ticking({ cron: '* * * * * *', catchUp: 'skip', metadata: { from: 'definition' } });
    let workers: WorkerHandle[] = await Promise.all([workerWith(every), workerWith(every), workerWith(every)]);
    try {
      // A worker writes its definitions' schedules as it starts listening (not before start() returns).
      await waitFor(async () => (await rows()).length > 0, { what: 'the definition schedule' });
      const first = await rows();
      expect(first).toEqual([
        { id: expect.any(String), cron: '* * * * * *', timezone: 'UTC', catch_up: 'skip', definition_of: 'ticking' },
      ]);
      const id = first[0]?.id as string;
      const listed = await listSchedules(tc.client);
      expect(E.isRight(listed) && listed.right.map((s) => [s.id, s.source, s.metadata])).toEqual([
        [id, 'definition', { from: 'definition' }],
      ]);
      // Its ticks run, one run per tick.
      await waitFor(
        async () =>
          ((
            await tc.client.db.pool.query(
              `SELECT 1 FROM ${tc.client.db.qs}.runs WHERE triggered_by = $1 AND status = 'success'`,
              [`queue:schedule:${id}`],
            )
          ).rowCount ?? 0) >= 2,
        { what: 'two runs of the definition schedule' },
      );
      const dup = await tc.client.db.pool.query(
        `SELECT tick_at FROM ${tc.client.db.qs}.schedule_ticks WHERE schedule_id = $1::bigint GROUP BY tick_at HAVING count(*) > 1`,
        [id],
      );
      expect(dup.rows).toEqual([]);
      for (const w of workers) await w.stop();

      // A changed definition (a worker of the new version starts): the same row, updated.
      workers = [await workerWith(ticking({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris', catchUp: 'last' }))];
      await waitFor(async () => (await rows())[0]?.cron === '0 9 * * 1-5', { what: 'the updated schedule' });
      expect(await rows()).toEqual([
        { id, cron: '0 9 * * 1-5', timezone: 'Europe/Paris', catch_up: 'last', definition_of: 'ticking' },
      ]);
      await workers[0]?.stop();

      // A definition without a schedule: the worker that has it removes the definition's schedule,
      // and leaves schedules added with orbit schedule add alone.
      const added = await tc.client.db.pool.query<{ id: string }>(
        `INSERT INTO ${tc.client.db.qs}.schedules (pipeline_id, cron) VALUES ('ticking', '0 0 1 1 *') RETURNING id::text`,
      );
      workers = [await workerWith(ticking())];
      await waitFor(async () => (await rows()).length === 1, { what: "the definition's schedule to go" });
      expect((await rows()).map((r) => [r.id, r.definition_of])).toEqual([[added.rows[0]?.id, null]]);
      const after = await listSchedules(tc.client);
      expect(E.isRight(after) && after.right.map((s) => s.source)).toEqual(['added']);
      expect(E.isRight(await removeSchedule(tc.client, added.rows[0]?.id as string))).toBe(true);
    } finally {
      for (const w of workers) await w.stop();
    }
  }, 90_000);
});
