/**
 * A run that suspends (its steps sleep or wait) is not a released run: `runPipeline`, `forkRun`
 * and `resumeRun` say `released: false`, its status `sleeping` or `waiting`, and what it is
 * suspended on. `released: true` stays for a process that gave a run back unfinished.
 */
import * as E from 'fp-ts/Either';
import { forkRun } from '../../src/api/forkRun';
import { resumeRun } from '../../src/api/resumeRun';
import { runPipeline } from '../../src/api/runPipeline';
import { sendEvent } from '../../src/api/sendEvent';
import { formatError } from '../../src/errors';
import { definePipeline } from '../../src/pipeline/definePipeline';
import * as promise from '../../src/promise';
import { createTestClient, type TestClient } from '../support/testClient';

let h: TestClient;
beforeAll(async () => {
  h = await createTestClient({ prefix: 'suspres' });
});
afterAll(async () => h.dispose());

const ok = (name: string) => ({ name, handler: () => ({ success: true as const }) });
const nap = definePipeline({ name: 'nap', steps: [ok('before'), { name: 'nap', sleep: '1h' }, ok('after')] });
const gate = definePipeline({
  name: 'gate',
  steps: [ok('before'), { name: 'approve', waitForEvent: { event: 'approved', timeout: '1h' } }, { name: 'cool', sleep: '1h' }],
});

const right = <T>(r: E.Either<Parameters<typeof formatError>[0], T>): T => {
  if (E.isLeft(r)) throw new Error(formatError(r.left));
  return r.right;
};
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

it('runPipeline: a run that sleeps is sleeping, not released, and says until when', async () => {
  const r = right(await runPipeline(nap, {}, { client: h.client }));
  expect(r).toMatchObject({
    status: 'sleeping',
    released: false,
    suspended: { kind: 'sleep', step: 'nap', until: ISO, event: null },
  });
  expect(r.suspended?.until).toBe(r.state.steps.find((s) => s.name === 'nap')?.nextRetryAt);
  // The promise entry returns the same document.
  const p = await promise.runPipeline(nap, {}, { client: h.client });
  expect(p).toMatchObject({ status: 'sleeping', released: false, suspended: { kind: 'sleep', step: 'nap' } });
});

it('runPipeline and resumeRun: a wait, then (its event taken) a sleep: neither is a release', async () => {
  const r = right(await runPipeline(gate, {}, { client: h.client }));
  expect(r).toMatchObject({
    status: 'waiting',
    released: false,
    suspended: { kind: 'wait', step: 'approve', until: ISO, event: 'approved' },
  });
  right(await sendEvent(h.client, r.runId, 'approved', { ok: true }));
  // Resumed here (as a worker would wake it): it takes the event and suspends again in its sleep.
  const again = right(await resumeRun(r.runId, { client: h.client }));
  expect(again).toMatchObject({ status: 'sleeping', released: false, suspended: { kind: 'sleep', step: 'cool', until: ISO } });
  expect(again.stepsExecuted).toBeGreaterThanOrEqual(1);
});

it('forkRun: a fork that sleeps is sleeping, not released', async () => {
  const done = right(await runPipeline(nap, {}, { client: h.client }));
  const fork = right(await forkRun(done.runId, { fromStep: 'before', client: h.client }));
  expect(fork).toMatchObject({ status: 'sleeping', released: false, suspended: { kind: 'sleep', step: 'nap' } });
});

it('a run given back unfinished is still released, with nothing suspended', async () => {
  const stop = new AbortController();
  stop.abort();
  const r = right(await runPipeline(nap, {}, { client: h.client, stopSignal: stop.signal }));
  expect(r).toMatchObject({ released: true, suspended: null });
  expect(r.status === 'sleeping' || r.status === 'waiting').toBe(false);
});
