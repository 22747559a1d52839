/**
 * Deaths are charged to the run that caused them: a poison run (its step kills its process)
 * resumed beside three healthy ones, over repeated `recover --auto-resume` and under `orbit
 * worker`, is failed by the recovery cap; the healthy runs succeed.
 */
import path from 'node:path';
import { createE2eHarness, ofType, REPO_ROOT, type E2eHarness, type EventRow } from '../support/cli';

const P = ['--pipelines', path.join(REPO_ROOT, 'test', 'lease', 'pipelines.js')];
const opts = { pipelines: false, extraArgs: P } as const;
const inLong = (ev: readonly EventRow[]) => ofType(ev, 'step.started', 'long').length > 0;

describe('poison isolation', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('lease_poison');
  });
  afterAll(() => h.dispose());

  /** Three healthy runs and one poison run, all interrupted (their processes killed). */
  const crashFour = async (): Promise<{ healthy: string[]; poison: string }> => {
    const healthy: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await h.startRunUntil(
        'lease-pipeline',
        { firstSleepMs: { long: 60_000 }, laterSleepMs: { long: 700 } },
        inLong,
        opts,
      );
      r.proc.kill('SIGKILL');
      await r.proc.done;
      healthy.push(r.runId);
    }
    const p = h.start([...P, 'run', 'lease-pipeline', '--metadata', JSON.stringify({ poison: 'long' })], { pipelines: false });
    const r = await p.done;
    expect(r.signal).toBe('SIGKILL');
    const poison = (
      await h.pool.query<{ id: string }>(`SELECT id FROM ${h.qs}.runs WHERE metadata ? 'poison' AND status = 'running'`)
    ).rows[0]?.id as string;
    return { healthy, poison };
  };

  const expectOutcome = async (healthy: string[], poison: string) => {
    for (const id of healthy) {
      const run = await h.run(id);
      expect(run?.status).toBe('success');
      expect(run?.recovery_count).toBeLessThanOrEqual(2);
    }
    const p = await h.run(poison);
    expect(p?.status).toBe('failed');
    expect(p?.error).toMatch(/taken over 5 times without finishing; giving up \(a step may be killing its worker\)/);
  };

  it('over repeated recover --auto-resume', async () => {
    const { healthy, poison } = await crashFour();
    for (let round = 0; round < 10; round++) {
      const r = await h.cli([...P, 'recover', '--auto-resume'], { pipelines: false, timeoutMs: 60_000 });
      if (r.lines.includes('No interrupted runs found')) break;
    }
    await expectOutcome(healthy, poison);
  }, 180_000);

  it('under orbit worker', async () => {
    const { healthy, poison } = await crashFour();
    const worker = h.start([...P, 'worker'], { pipelines: false, timeoutMs: 120_000 });
    await h.waitFor(
      'the four runs to end',
      async () =>
        (
          await h.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${h.qs}.runs WHERE id = ANY ($1) AND status IN ('success', 'failed')`,
            [[...healthy, poison]],
          )
        ).rows[0]?.n === 4,
      90_000,
    );
    await expectOutcome(healthy, poison);
    worker.kill('SIGINT');
    const w = await worker.done;
    expect(w.code).toBe(0);
  }, 180_000);
});
