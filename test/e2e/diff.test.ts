import { buildEventfulRun } from '../support/auditRuns';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';

/* Issue 10 item 3: `orbit diff <runA> <runB>` compares two real runs step by step. */

describe('orbit diff', () => {
  let h: E2eHarness;
  let eventful: string;
  const clean = 'diff-clean-1';

  beforeAll(async () => {
    h = await createE2eHarness('diff');
    eventful = await buildEventfulRun(h);
    expectExit(await h.cli(['run', 'data-pipeline', '--run-id', clean, '--metadata', '{}']), 0);
  }, 60_000);
  afterAll(async () => h.dispose());

  it('shows status, attempts and duration per step, and where results differ', async () => {
    const r = await h.cli(['diff', eventful, clean, '--json']);
    expectExit(r, 0);
    const doc = JSON.parse(r.stdout) as {
      a: { runId: string; status: string };
      steps: {
        step: string;
        a: { attempts: number; durationMs: number };
        b: { attempts: number };
        sameResult: boolean;
        firstDifference: string | null;
      }[];
    };
    expect(doc.a).toMatchObject({ runId: eventful, status: 'success' });
    expect(doc.steps.map((s) => [s.step, s.a.attempts, s.b.attempts, s.sameResult, s.firstDifference])).toEqual([
      ['fetch-data', 1, 1, true, null],
      ['transform-data', 3, 1, false, '$.attempt'],
      ['load-data', 2, 1, false, '$.attempt'],
      ['notify', 1, 1, true, null],
    ]);
    expect(doc.steps[2]!.a.durationMs).toBeGreaterThanOrEqual(500);

    const text = await h.cli(['diff', eventful, clean]);
    expectExit(text, 0);
    expect(text.lines.find((l) => l.startsWith('transform-data'))).toMatch(
      /^transform-data +success ×3 \S+ +success ×1 \S+ +differ at \$\.attempt$/,
    );
  });

  it('an unknown run is an error', async () => {
    const r = await h.cli(['diff', eventful, 'no-such-run']);
    expectExit(r, 1);
    expect(r.stderr).toBe('Error: Run not found: no-such-run\n');
  });
});
