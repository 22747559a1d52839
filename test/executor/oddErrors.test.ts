/**
 * Whatever a handler throws, or returns as `error` or as its result, becomes a `step.failed` with a
 * string message that the journal stores and a person can read: Errors whose message, stack or name
 * is not a string, throwing getters, revoked Proxies, cycles, symbols, non-Error values. None of
 * them may escape the executor (on main before this test, `message = 42` crashed the process with
 * "s.includes is not a function" and left the run `running`).
 */
import { readRunEvents } from '../../src/journal/readEvents';
import { runPipeline } from '../../src/executor/runPipeline';
import { MAX_ERROR_MESSAGE, MAX_STACK, toStepError } from '../../src/executor/stepError';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';

const { oddValues } = require('../fixtures/oddValues') as { oddValues: Record<string, () => unknown> };

let tc: TestClient;
let make: () => unknown = () => undefined;
let how: 'throw' | 'return-error' | 'return-value' = 'throw';
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'odderr' });
  tc.registry.registerPipeline(
    definePipeline({
      name: 'odd',
      steps: [
        {
          name: 'odd-step',
          handler: () => {
            const v = make();
            if (how === 'throw') throw v;
            if (how === 'return-error') return { success: false, error: v };
            return v as { success: true };
          },
        },
      ],
    }),
  );
});
afterAll(async () => tc.dispose());

/** A message a person can read: text, short enough, not "[object Object]". */
const readable = (m: unknown): boolean =>
  typeof m === 'string' && m.length <= MAX_ERROR_MESSAGE + 40 && !m.includes('[object Object]');

describe.each(['throw', 'return-error', 'return-value'] as const)('a handler that does %s with an odd value', (mode) => {
  it.each(Object.keys(oddValues))('%s: the run fails with a readable step.failed', async (kind) => {
    how = mode;
    make = oddValues[kind] as () => unknown;
    const r = expectRight(await runPipeline('odd', {}, { client: tc.client }));
    expect(r.status).toBe('failed');
    const events = expectRight(await readRunEvents(tc.client.db, r.runId));
    const failed = events.map((e) => e.event).find((e) => e.type === 'step.failed');
    expect(failed?.type).toBe('step.failed');
    if (failed?.type !== 'step.failed') return;
    expect(readable(failed.payload.error.message)).toBe(true);
    expect(typeof failed.payload.error.name).toBe('string');
    expect(events.at(-1)?.event.type).toBe('run.failed');
  });
});

describe('toStepError', () => {
  it('reads non-string fields as text and never throws', () => {
    expect(toStepError(Object.assign(new Error(), { message: 42 }))).toMatchObject({ name: 'Error', message: '42' });
    expect(toStepError(Object.assign(new Error('m'), { name: 42 }))).toMatchObject({ name: 'Error', message: 'm' });
    expect(toStepError(Object.assign(new Error('m'), { stack: 5 }))).toEqual({ name: 'Error', message: 'm', stack: '5' });
    expect(toStepError((oddValues['revoked-proxy'] as () => unknown)()).message).toMatch(
      /^a Proxy that cannot be read was thrown/,
    );
    expect(toStepError((oddValues['throwing-getters'] as () => unknown)())).toEqual({
      name: 'Error',
      message: '(its message could not be read: message getter throws)',
      stack: '(its stack could not be read: stack getter throws)',
    });
    expect(toStepError((oddValues['circular-object'] as () => unknown)()).message).toContain("why: 'circular'");
    expect(toStepError(10n ** 30n).message).toBe('1000000000000000000000000000000');
    expect(toStepError(null).message).toBe('null');
  });

  it('caps the message like the stack, saying how much was left out', () => {
    const e = toStepError(new Error('x'.repeat(2_000_000)));
    expect(e.message).toBe(`${'x'.repeat(MAX_ERROR_MESSAGE)}… (${2_000_000 - MAX_ERROR_MESSAGE} more characters)`);
    expect(e.stack?.length).toBe(MAX_STACK);
  });
});
