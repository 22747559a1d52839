/**
 * Retry delays stay whole milliseconds within the cap at any attempt count: with
 * `initialDelayMs: 0`, attempt 1,025 computed 0 × 2^1024 = NaN on main before this test, and the
 * run was left `running` with every resume failing the same way.
 */
import * as fc from 'fast-check';
import { MAX_RETRY_DELAY_MS } from '../../src/events/runEvents';
import { DEFAULT_RETRY, retryDelayMs } from '../../src/decide/retryPolicy';
import { runPipeline } from '../../src/executor/runPipeline';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';

describe('retryDelayMs', () => {
  it('is 0 at attempt 1,025 and beyond with initialDelayMs 0, and the cap when the growth overflows', () => {
    const zero = { ...DEFAULT_RETRY, initialDelayMs: 0, backoffFactor: 2 };
    for (const a of [1024, 1025, 1026, 100_000, Number.MAX_SAFE_INTEGER]) expect(retryDelayMs(zero, a)).toBe(0);
    const grows = { ...DEFAULT_RETRY, initialDelayMs: 1, backoffFactor: 2, maxDelayMs: 5000 };
    for (const a of [1025, 1e9]) expect(retryDelayMs(grows, a)).toBe(5000);
  });

  it('is always a whole number from 0 to the cap, whatever the attempt, policy and random source', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 1, max: 1e300, noNaN: true }),
        fc.double({ min: 0, max: MAX_RETRY_DELAY_MS * 2, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double(),
        (attempt, initialDelayMs, backoffFactor, maxDelayMs, jitter, r) => {
          const d = retryDelayMs({ maxAttempts: 2, initialDelayMs, backoffFactor, maxDelayMs, jitter }, attempt, () => r);
          return Number.isInteger(d) && d >= 0 && d <= Math.min(maxDelayMs, MAX_RETRY_DELAY_MS);
        },
      ),
    );
  });
});

describe('a run whose retry growth overflows', () => {
  let tc: TestClient;
  beforeAll(async () => {
    tc = await createTestClient({ prefix: 'retrynan' });
  });
  afterAll(async () => tc.dispose());

  it('keeps retrying and ends, never left running by a NaN delay', async () => {
    // 0 × (1e300)² = 0 × Infinity = NaN at the third attempt: the same overflow as 2^1024, sooner.
    let calls = 0;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'overflow',
        retry: { maxAttempts: 6, initialDelayMs: 0, backoffFactor: 1e300 },
        steps: [{ name: 'flaky', handler: () => (++calls < 5 ? { success: false, error: 'not yet' } : { success: true }) }],
      }),
    );
    const r = expectRight(await runPipeline('overflow', {}, { client: tc.client }));
    expect(r.status).toBe('success');
    expect(calls).toBe(5);
  });
});
