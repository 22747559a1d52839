/**
 * Step results have a size cap (issue 20 item 15): a result over the client's `maxResultBytes`
 * fails the step for good with ResultTooLarge (naming the step, the size and the cap), a result at
 * the cap is journaled; the cap comes from the option, else ORBIT_MAX_RESULT_BYTES, else 16 MiB.
 */
import * as E from 'fp-ts/Either';
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { resolveSettings } from '../../src/runtime/settings';
import { expectRight, testDatabaseUrl, uniqueSchemaName } from '../support/testDatabase';

const CAP = 1_000;
let client: OrbitClient;
let size = 0;
let calls = 0;
const registry = createRegistry();
registry.registerPipeline(
  definePipeline({
    name: 'big-result',
    retry: { maxAttempts: 3, initialDelayMs: 1 },
    steps: [
      {
        name: 'produce',
        handler: () => {
          calls += 1;
          // {"s":"xxx…"}: 8 bytes around the string; 'é' is two bytes in UTF-8.
          return { success: true, data: { s: 'é'.repeat((size - 8) / 2) } };
        },
      },
    ],
  }),
);

beforeAll(async () => {
  const c = await connect({
    databaseUrl: testDatabaseUrl(),
    schema: uniqueSchemaName('resultcap'),
    registry,
    migrate: true,
    env: {},
    maxResultBytes: CAP,
  });
  if (E.isLeft(c)) throw new Error(c.left._tag);
  client = c.right;
});
afterAll(async () => {
  await client.db.pool.query(`DROP SCHEMA IF EXISTS ${client.db.qs} CASCADE`);
  await client.close();
});

describe('the step result cap', () => {
  it('journals a result of exactly the cap (bytes of its JSON in UTF-8)', async () => {
    size = CAP;
    const r = expectRight(await runPipeline('big-result', {}, { client }));
    expect(r.status).toBe('success');
  });

  it('fails a result one byte over the cap at once, without retrying, naming the step, the size and the cap', async () => {
    size = CAP + 2;
    calls = 0;
    const r = expectRight(await runPipeline('big-result', {}, { client }));
    expect(r.status).toBe('failed');
    expect(calls).toBe(1);
    const error = r.state.steps[0]?.error;
    expect(error?.name).toBe('ResultTooLarge');
    expect(error?.message).toBe(
      `step "produce" returned a result of ${CAP + 2} bytes, over the maxResultBytes cap (ORBIT_MAX_RESULT_BYTES) of ${CAP} bytes: store large data elsewhere and return a reference to it`,
    );
    expect(r.error).toContain(`returned a result of ${CAP + 2} bytes`);
  });

  it('is the option, else ORBIT_MAX_RESULT_BYTES, else 16 MiB; anything but a whole number of bytes is refused', () => {
    const get = (opts: { maxResultBytes?: number }, env: Record<string, string>) => resolveSettings(opts, env);
    expect(E.map((s: { maxResultBytes: number }) => s.maxResultBytes)(get({}, {}))).toEqual(E.right(16 * 1024 * 1024));
    expect(E.map((s: { maxResultBytes: number }) => s.maxResultBytes)(get({}, { ORBIT_MAX_RESULT_BYTES: '2048' }))).toEqual(
      E.right(2048),
    );
    expect(
      E.map((s: { maxResultBytes: number }) => s.maxResultBytes)(get({ maxResultBytes: 10 }, { ORBIT_MAX_RESULT_BYTES: '2048' })),
    ).toEqual(E.right(10));
    for (const bad of ['0', '-1', '1.5', '16MB', 'x']) {
      const r = get({}, { ORBIT_MAX_RESULT_BYTES: bad });
      expect(E.isLeft(r) && r.left.what).toBe('ORBIT_MAX_RESULT_BYTES');
    }
    for (const bad of [0, 1.5, NaN, -3]) {
      const r = get({ maxResultBytes: bad }, {});
      expect(E.isLeft(r) && r.left.what).toBe('maxResultBytes');
    }
  });
});
