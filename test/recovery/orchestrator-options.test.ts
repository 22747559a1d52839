/** A recovery asked to use NaN or zero workers once reported every run as a null result; now it is refused. */
import { RunRecoveryOrchestrator } from '../../src/api/runRecoveryOrchestrator';
import { formatError } from '../../src/errors';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectLeft } from '../support/testDatabase';

let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'orchopt' });
});
afterAll(async () => tc.dispose());

it('refuses a concurrency or limit that is not a positive whole number', async () => {
  for (const [opts, line] of [
    [{ concurrency: Number.NaN }, 'Invalid concurrency: NaN is not a positive whole number'],
    [{ concurrency: 0 }, 'Invalid concurrency: 0 is not a positive whole number'],
    [{ limit: -1 }, 'Invalid limit: -1 is not a positive whole number'],
    [{ limit: 1e300 }, 'Invalid limit: 1e+300 is not a positive whole number'],
  ] as const) {
    const e = expectLeft(await new RunRecoveryOrchestrator({ client: tc.client, ...opts }).recoverInterruptedRuns());
    expect(formatError(e)).toBe(line);
  }
});
