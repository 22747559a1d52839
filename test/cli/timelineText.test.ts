import type { RunEvent } from '../../src/events/runEvents';
import { buildTimeline, type Timeline } from '../../src/audit/timeline';
import { mapItemsOf } from '../../src/audit/timelineItems';
import { timelineLines } from '../../src/cli/timelineText';
import { claimed, created, record, runSucceeded, started, succeeded } from '../support/eventBuilders';

/* `orbit history` on a terminal: one lane per branch for a run with dependsOn (issue 18 item 5). */

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, dim: (s: string) => s };
const lines = (t: Timeline, dependsOn: Record<string, string[]> | null): string[] =>
  timelineLines(t, { width: 20, fancy: false, paint: plain, results: false, dependsOn });

describe('history timeline on the terminal', () => {
  it('a diamond: a branch row per lane, its attempts indented under it', () => {
    const dependsOn = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] };
    const dag: RunEvent = {
      type: 'run.created',
      payload: {
        pipelineId: 'diamond',
        steps: ['a', 'b', 'c', 'd'],
        definitionHash: 'h',
        metadata: {},
        triggeredBy: null,
        dependsOn,
      },
    };
    const t = buildTimeline(
      record('r', [
        dag,
        claimed(),
        started('a'),
        succeeded('a'),
        started('b'),
        started('c'),
        succeeded('c'),
        succeeded('b'),
        started('d'),
        succeeded('d'),
        runSucceeded(),
      ]),
    )!;
    const out = lines(t, dependsOn);
    expect(out[0]).toContain('4 attempt(s) of 4 step(s) in 2 branches');
    expect(out.slice(3).map((l) => l.split(' |')[0]!.trimEnd())).toEqual([
      'branch 1',
      '  a #1',
      '  b #1',
      '  d #1',
      'branch 2',
      '  c #1',
    ]);
    expect(out[3]).toMatch(/\| a → b → d$/);
    expect(out[7]).toMatch(/^branch 2 +\| {3,}#+ +\| c$/);
  });

  it('a map step: its item counts and the failed items under its row', () => {
    const events: RunEvent[] = [
      created(['each']),
      claimed(),
      { type: 'step.started', stepName: 'each', attempt: 1, payload: { items: 3 } },
      { type: 'item.started', stepName: 'each', attempt: 1, payload: { index: 0 } },
      { type: 'item.succeeded', stepName: 'each', attempt: 1, payload: { index: 0, result: 0 } },
      { type: 'item.started', stepName: 'each', attempt: 1, payload: { index: 1 } },
      {
        type: 'item.failed',
        stepName: 'each',
        attempt: 1,
        payload: { index: 1, error: { name: 'Error', message: 'no' }, retryable: false },
      },
    ];
    const recorded = record('r', events);
    const out = timelineLines(buildTimeline(recorded)!, {
      width: 20,
      fancy: false,
      paint: plain,
      results: false,
      items: mapItemsOf(recorded),
    });
    expect(out.slice(-2).map((l) => l.trim())).toEqual(['items: 3 items, 1 succeeded, 1 failed (items 1)', 'item 1: Error: no']);
  });

  it('a linear run: the same lines with or without a dependsOn of its own shape', () => {
    const t = buildTimeline(
      record('r', [created(['a', 'b']), claimed(), started('a'), succeeded('a'), started('b'), succeeded('b'), runSucceeded()]),
    )!;
    expect(lines(t, { a: [], b: ['a'] })).toEqual(lines(t, null));
    expect(
      lines(t, null)
        .slice(3)
        .map((l) => l.split(' |')[0]!.trimEnd()),
    ).toEqual(['a #1', 'b #1']);
  });
});
