/** Which failures are ridden out, and for how long (no database needed). */
import { isServerBusy, isTransient } from '../../src/db/pgErrors';
import { retryBudgetMs, retryTransient } from '../../src/db/retryTransient';

const pgError = (code: string): Error => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('transient failures', () => {
  it('are connection loss, 08xxx, 57P01-03, 40001, 40P01 and 53300, and nothing else', () => {
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001', '40001', '40P01', '53300', 'ECONNRESET', 'ECONNREFUSED'])
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
      retryTransient(async () => {
        calls += 1;
        if (calls < 4) throw pgError('57P03');
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(calls).toBe(4);

    const t0 = Date.now();
    await expect(
      retryTransient(
        async () => {
          throw pgError('08006');
        },
        { budgetMs: 400 },
      ),
    ).rejects.toMatchObject({ code: '08006' });
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it('other failures are not retried', async () => {
    let calls = 0;
    await expect(
      retryTransient(async () => {
        calls += 1;
        throw pgError('23505');
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(calls).toBe(1);
  });

  it('the budget is 30 s unless ORBIT_RETRY_BUDGET_MS says otherwise', () => {
    expect(retryBudgetMs({})).toBe(30_000);
    expect(retryBudgetMs({ ORBIT_RETRY_BUDGET_MS: '1500' })).toBe(1_500);
    expect(retryBudgetMs({ ORBIT_RETRY_BUDGET_MS: 'soon' })).toBe(30_000);
  });
});
