/**
 * A lease covers only the runs in hand: a process executing two runs loses the database; one
 * run's step ends during the outage, so its append and its fallback release both fail and the
 * process gives it up. Once the database is back, that run is listed as interrupted (released by
 * the process as soon as it can write again, else by the threshold) while the same process is
 * still executing the other, whose lease is intact.
 */
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { detectInterruptedRuns } from '../../src/api/detectInterruptedRuns';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';
import { waitFor } from '../support/waitFor';
import { Outage, viaProxy } from './outage';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });

describe('giving a run up', () => {
  let proxy: Outage;
  let executor: OrbitClient;
  let checker: OrbitClient;

  beforeAll(async () => {
    const url = testDatabaseUrl();
    const u = new URL(url);
    proxy = new Outage(u.hostname, Number(u.port || 5432));
    await proxy.up();
    const schema = uniqueSchemaName('lease_giveup');
    const registry = createRegistry();
    for (const [name, ms] of [
      ['short-step', 1500],
      ['long-step', 20_000],
    ] as const) {
      registry.registerPipeline(
        definePipeline({
          name,
          steps: [{ name: 'work', handler: async (ctx) => (await sleep(ms, ctx.signal), { success: true }) }],
        }),
      );
    }
    // A short transient-retry budget: the executor gives up on the cut database in a second
    // instead of riding it out for 30 s.
    const c1 = await connect({ databaseUrl: viaProxy(url, proxy), schema, registry, migrate: true, retryBudgetMs: 1000 });
    const c2 = await connect({ databaseUrl: url, schema, registry, thresholdMs: 1000 });
    if (E.isLeft(c1) || E.isLeft(c2)) throw new Error('cannot connect');
    executor = c1.right;
    checker = c2.right;
  });
  afterAll(async () => {
    await checker.db.pool.query(`DROP SCHEMA IF EXISTS ${checker.db.qs} CASCADE`);
    await checker.close();
    await executor.close();
    await proxy.down();
  });

  it('lists the given-up run within the threshold while the same process still executes the other', async () => {
    let shortId = '';
    let longId = '';
    const short = runPipeline('short-step', {}, { client: executor, onClaimed: (id) => (shortId = id) });
    const stopLong = new AbortController();
    const long = runPipeline(
      'long-step',
      {},
      { client: executor, onClaimed: (id) => (longId = id), abortSignal: stopLong.signal },
    );
    // Both steps under way (journaled), so that the short one ends during the outage.
    await waitFor(
      async () =>
        shortId !== '' &&
        longId !== '' &&
        (
          await checker.db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${checker.db.qs}.run_events WHERE run_id = ANY ($1) AND type = 'step.started'`,
            [[shortId, longId]],
          )
        ).rows[0]?.n === 2,
      { what: 'both runs to be claimed and their steps started' },
    );
    await proxy.down(); // the short step ends during the outage: its append and release fail
    const given = await short;
    expect(E.isLeft(given) && given.left._tag).toBe('DatabaseUnavailable');
    await proxy.up();

    const back = Date.now();
    let listed: string[] = [];
    await waitFor(
      async () => {
        const d = await detectInterruptedRuns({ client: checker });
        if (E.isLeft(d)) throw new Error(formatError(d.left));
        listed = d.right.map((r) => r.runId);
        return listed.includes(shortId);
      },
      { what: 'the given-up run to be listed as interrupted', timeoutMs: 10_000, everyMs: 100 },
    );
    expect(listed).toContain(shortId);
    expect(listed).not.toContain(longId);
    // The lease's next renewal (a third of it) no longer names the given-up run.
    const held = async () =>
      (
        await checker.db.pool.query<{ held: string[] }>(`SELECT held FROM ${checker.db.qs}.workers WHERE id = $1`, [
          executor.workerId,
        ])
      ).rows[0]?.held;
    await waitFor(async () => JSON.stringify(await held()) === JSON.stringify([longId]), {
      what: 'the lease to cover only the run still executed',
      timeoutMs: 10_000,
      everyMs: 100,
    });
    expect(await held()).toEqual([longId]);
    process.stdout.write(`[lease] given-up run listed ${Date.now() - back} ms after the database returned (threshold 1 s)\n`);
    // The other run is still being executed by the same process.
    const status = await checker.db.pool.query<{ status: string }>(`SELECT status FROM ${checker.db.qs}.runs WHERE id = $1`, [
      longId,
    ]);
    expect(status.rows[0]?.status).toBe('running');
    stopLong.abort();
    const released = await long;
    expect(E.isRight(released) && released.right.released).toBe(true);
  }, 60_000);
});
