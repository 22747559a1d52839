/**
 * A NonRetryableError from a second copy of the package (a pipelines module with its own
 * node_modules: `instanceof` is false) is still not retried: it is recognised by its brand.
 */
import { invokeHandler } from '../../src/executor/invokeHandler';
import { isNonRetryable, NonRetryableError } from '../../src/executor/stepError';
import type { StepContext, StepDefinition } from '../../src/pipeline/types';

type StepErrorModule = typeof import('../../src/executor/stepError');

/** The same module loaded again, as a second installed copy would be: a distinct class. */
const secondCopy = (): StepErrorModule => {
  let m: StepErrorModule | undefined;
  jest.isolateModules(() => {
    m = require('../../src/executor/stepError') as StepErrorModule;
  });
  return m as StepErrorModule;
};

describe('NonRetryableError from another copy of the package', () => {
  const Other = secondCopy().NonRetryableError;

  it('is a distinct class, yet recognised as not retryable; look-alikes are not', () => {
    const err = new Other('no point retrying');
    expect(err instanceof NonRetryableError).toBe(false);
    expect(isNonRetryable(err)).toBe(true);
    expect(isNonRetryable(new NonRetryableError('x'))).toBe(true);
    expect(isNonRetryable(new Error('x'))).toBe(false);
    expect(isNonRetryable(Object.assign(new Error('x'), { name: 'NonRetryableError' }))).toBe(false);
    expect(isNonRetryable(null)).toBe(false);
    expect(isNonRetryable('NonRetryableError')).toBe(false);
  });

  it('fails the step without retry whether thrown or returned as error', async () => {
    for (const handler of [
      () => {
        throw new Other('thrown');
      },
      () => ({ success: false as const, error: new Other('returned') }),
    ]) {
      const step = { name: 's', handler } as unknown as StepDefinition<unknown>;
      const outcome = await invokeHandler(step, {} as StepContext<unknown>, new AbortController());
      expect(outcome).toMatchObject({ kind: 'failed', retryable: false, error: { name: 'NonRetryableError' } });
    }
  });
});
