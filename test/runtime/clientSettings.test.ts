import * as E from 'fp-ts/Either';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { runPipeline } from '../../src/api/runPipeline';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import type { Clock } from '../../src/util/clock';
import { testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';

/*
 * connect() resolves every setting once: its option, else the environment it is given
 * (`connect({ env })`, never the process's own when one is given), else the default; the
 * executor, the lease, the group commit and the retries take them from the client.
 */
const url = testDatabaseUrl();
const schema = uniqueSchemaName('settings');
const registry = createRegistry();
const clients: OrbitClient[] = [];

const open = async (opts: Parameters<typeof connect>[0] = {}): Promise<OrbitClient> => {
  const c = await connect({ databaseUrl: url, schema, registry, migrate: true, env: {}, ...opts });
  if (E.isLeft(c)) throw new Error(c.left._tag);
  clients.push(c.right);
  return c.right;
};

afterAll(async () => {
  const [first] = clients;
  await first?.db.pool.query(`DROP SCHEMA IF EXISTS ${first.db.qs} CASCADE`);
  for (const c of clients) await c.close();
});

describe('the settings of a client', () => {
  it('come from the given environment, not the process', async () => {
    process.env.ORBIT_LEASE = '9s';
    try {
      const c = await open({
        env: {
          ORBIT_LEASE: '2s',
          ORBIT_RETRY_BUDGET_MS: '1500',
          ORBIT_APPEND_SLOTS: '3',
          ORBIT_INTERRUPTED_THRESHOLD: '45s',
          ORBIT_FAULT_AFTER: 'step.started:x',
        },
      });
      expect([c.leaseMs, c.retryBudgetMs, c.appendSlots, c.thresholdMs, c.faultAfter]).toEqual([
        2000,
        1500,
        3,
        45_000,
        'step.started:x',
      ]);
      // The pool below the client carries what its layers need.
      expect([c.db.retryBudgetMs, c.db.appendSlots]).toEqual([1500, 3]);
    } finally {
      delete process.env.ORBIT_LEASE;
    }
  });

  it('options win over the environment; without either, the defaults', async () => {
    const c = await open({ env: { ORBIT_LEASE: '2s' }, leaseMs: 4000, retryBudgetMs: 250, appendSlots: 1, thresholdMs: 30_000 });
    expect([c.leaseMs, c.retryBudgetMs, c.appendSlots, c.thresholdMs]).toEqual([4000, 250, 1, 30_000]);
    const d = await open();
    expect([d.leaseMs, d.retryBudgetMs, d.appendSlots, d.thresholdMs, d.faultAfter]).toEqual([
      15_000,
      30_000,
      2,
      600_000,
      undefined,
    ]);
  });

  it('a bad setting is InvalidInput, refused before any connection', async () => {
    const bad = [
      await connect({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env: { ORBIT_LEASE: '100ms' } }),
      await connect({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env: {}, leaseMs: 10 }),
      await connect({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env: {}, appendSlots: 0 }),
      await connect({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', env: { ORBIT_INTERRUPTED_THRESHOLD: '10' } }),
    ];
    expect(bad.map((r) => (E.isLeft(r) ? `${r.left._tag}` : 'Right'))).toEqual([
      'InvalidInput',
      'InvalidInput',
      'InvalidInput',
      'InvalidInput',
    ]);
  });

  it('the lease row is renewed for the client’s lease, on the database clock', async () => {
    const c = await open({ leaseMs: 3000 });
    registry.registerPipeline(
      definePipeline({
        name: 'settings-hold',
        steps: [
          {
            name: 'hold',
            handler: async () => {
              const r = await c.db.pool.query<{ ms: number }>(
                `SELECT extract(epoch FROM lease_until - heartbeat_at) * 1000 AS ms FROM ${c.db.qs}.workers WHERE id = $1`,
                [c.workerId],
              );
              return { success: true, data: { ms: Math.round(Number(r.rows[0]?.ms)) } };
            },
          },
        ],
      }),
    );
    const r = await runPipeline('settings-hold', {}, { client: c });
    expect(E.isRight(r) && r.right.state.steps[0]?.result).toEqual({ ms: 3000 });
  });

  it('the injected clock is the one new run ids and durations are read from', async () => {
    // A clock a year ahead: what this process measures comes from it, never from Date.now().
    const yearMs = 365 * 86_400_000;
    const calls: number[] = [];
    const ahead: Clock = {
      now: () => {
        const t = performance.timeOrigin + performance.now() + yearMs;
        calls.push(t);
        return t;
      },
    };
    const c = await open({ clock: ahead });
    registry.registerPipeline(
      definePipeline({ name: 'settings-clock', steps: [{ name: 'only', handler: () => ({ success: true }) }] }),
    );
    const before = calls.length;
    const r = await runPipeline('settings-clock', {}, { client: c });
    if (E.isLeft(r)) throw new Error(r.left._tag);
    expect(calls.length).toBeGreaterThan(before);
    const stamp = parseInt(r.right.runId.slice('run_'.length, 'run_'.length + 8), 36);
    // The id's time prefix (base 36 ms, its first 8 digits) is a year ahead of this machine's clock.
    expect(stamp).toBeGreaterThan(
      parseInt((performance.timeOrigin + performance.now() + yearMs / 2).toString(36).slice(0, 8), 36),
    );
  });
});
