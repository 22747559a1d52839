/**
 * Labels under the dashboard's timeline: close in time, they take separate rows instead of printing
 * over one another ("now" over "resumed" read "nowumed" on a waiting run's page).
 */
import { labelRows } from '../../src/cli/ui/pages/labelRows';
import { timelineSvg } from '../../src/cli/ui/pages/timelineSvg';
import type { Timeline } from '../../src/api/internal/timeline';

describe('labelRows', () => {
  it('keeps labels far apart on the first row', () => {
    expect(
      labelRows([
        { x: 100, text: 'claimed', anchor: 'middle' },
        { x: 400, text: 'resumed', anchor: 'middle' },
        { x: 700, text: 'now', anchor: 'end' },
      ]),
    ).toEqual([0, 0, 0]);
  });

  it('moves a label that would overlap to the next free row', () => {
    expect(
      labelRows([
        { x: 200, text: 'claimed', anchor: 'middle' },
        { x: 205, text: 'resumed', anchor: 'middle' },
        { x: 203, text: 'now', anchor: 'end' },
        { x: 600, text: 'released', anchor: 'middle' },
      ]),
    ).toEqual([0, 1, 2, 0]);
  });

  it('leaves out a label no row has room for', () => {
    const crowded = Array.from({ length: 5 }, (_, i) => ({ x: 300 + i, text: 'resumed', anchor: 'middle' as const }));
    expect(labelRows(crowded, 3)).toEqual([0, 1, 2, null, null]);
  });

  it('accounts for the anchor: an end-anchored label ends at x', () => {
    // "now" ends at 300 (about 20 units wide); "event" centred at 330 starts past it.
    expect(
      labelRows([
        { x: 300, text: 'now', anchor: 'end' },
        { x: 330, text: 'event', anchor: 'middle' },
      ]),
    ).toEqual([0, 0]);
    expect(
      labelRows([
        { x: 300, text: 'now', anchor: 'start' },
        { x: 330, text: 'event', anchor: 'middle' },
      ]),
    ).toEqual([0, 1]);
  });
});

describe('timelineSvg', () => {
  const t = (markers: Timeline['markers'], ended: boolean): Timeline => ({
    runId: 'run_1',
    pipelineId: 'p',
    steps: ['a'],
    startedAt: '2026-12-08T00:00:00.000Z',
    endedAt: '2026-12-08T01:00:00.000Z',
    ended,
    durationMs: 3_600_000,
    lastEventAt: '2026-12-08T00:00:01.000Z',
    attempts: [],
    waits: [],
    markers,
    suspended: false,
  });
  const texts = (svg: string) =>
    [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" text-anchor="(?:middle|end)">(\w+)<\/text>/g)].map((m) => ({
      y: Number(m[1]),
      text: m[2],
    }));

  it('draws "now" on its own row when a marker sits beside it', () => {
    const svg = String(
      timelineSvg(
        t([{ seq: 3, at: '2026-12-08T00:00:01.000Z', kind: 'resumed', worker: 'w', label: 'resumed' }], false),
        '2026-12-08T00:00:02.000Z',
      ),
    );
    const labels = texts(svg);
    expect(labels.map((l) => l.text).sort()).toEqual(['now', 'resumed']);
    const [a, b] = labels;
    expect(a?.y).not.toBe(b?.y);
    // The drawing grows by the extra row, so the second row is not cut off.
    const height = Number(/viewBox="0 0 \d+ (\d+)"/.exec(svg)?.[1]);
    expect(height).toBeGreaterThanOrEqual(Math.max(...labels.map((l) => l.y)));
  });

  it('keeps one row when the labels are apart', () => {
    const svg = String(
      timelineSvg(
        t([{ seq: 3, at: '2026-12-08T00:00:01.000Z', kind: 'claimed', worker: 'w', label: 'claimed' }], false),
        '2026-12-08T00:40:00.000Z',
      ),
    );
    const ys = new Set(texts(svg).map((l) => l.y));
    expect(ys.size).toBe(1);
  });
});
