/** Which failures are ridden out, and for how long (no database needed). */
import * as E from 'fp-ts/Either';
import { resolveSettings } from '../../src/runtime/settings';
import { isServerBusy, isTransient } from '../../src/db/pgErrors';
import { retryTransient, type RetryBudget } from '../../src/db/retryTransient';
import { systemClock } from '../../src/util/clock';

const budget = (retryBudgetMs: number): RetryBudget => ({ retryBudgetMs, clock: systemClock });

const pgError = (code: string): Error => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('transient failures', () => {
  it('are connection loss, 08xxx, 57P01-03, 40001, 40P01, 53300 and the statement and lock timeouts, and nothing else', () => {
    for (const code of [
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '40001',
      '40P01',
      '53300',
      '57014',
      '55P03',
      'ECONNRESET',
      'ECONNREFUSED',
    ])
      expect([code, isTransient(pgError(code))]).toEqual([code, true]);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['23505', '23502', '42P01', '22P02', '2201W'])
      expect([code, isTransient(pgError(code))]).toEqual([code, false]);
    // A first connect waits only for a server that answers "starting up"/"shutting down", not for a closed port.
    expect(isServerBusy(pgError('57P03'))).toBe(true);
    expect(isServerBusy(pgError('ECONNREFUSED'))).toBe(false);
  });

  it('are retried until they stop, and a lasting one surfaces once the budget is spent', async () => {
    let calls = 0;
    await expect(
      retryTransient(budget(30_000), async () => {
        calls += 1;
        if (calls < 4) throw pgError('57P03');
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(calls).toBe(4);

    // The budget is measured by the client's clock: here one that moves 150 ms per attempt, so a
    // 400 ms budget allows exactly three (delays of at most 50 and 100 ms still fit; a third does not).
    let now = 0;
    let attempts = 0;
    await expect(
      retryTransient({ retryBudgetMs: 400, clock: { now: () => now } }, async () => {
        attempts += 1;
        now += 150;
        throw pgError('08006');
      }),
    ).rejects.toMatchObject({ code: '08006' });
    expect(attempts).toBe(3);
  });

  it('other failures are not retried', async () => {
    let calls = 0;
    await expect(
      retryTransient(budget(30_000), async () => {
        calls += 1;
        throw pgError('23505');
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(calls).toBe(1);
  });

  it('the budget is 30 s unless the client says otherwise (option, then ORBIT_RETRY_BUDGET_MS)', () => {
    const of = (opts: { retryBudgetMs?: number }, env: Record<string, string>) => {
      const s = resolveSettings(opts, env);
      if (E.isLeft(s)) throw new Error(s.left._tag);
      return s.right.retryBudgetMs;
    };
    expect(of({}, {})).toBe(30_000);
    expect(of({}, { ORBIT_RETRY_BUDGET_MS: '1500' })).toBe(1_500);
    expect(of({}, { ORBIT_RETRY_BUDGET_MS: 'soon' })).toBe(30_000);
    expect(of({ retryBudgetMs: 250 }, { ORBIT_RETRY_BUDGET_MS: '1500' })).toBe(250);
  });
});
