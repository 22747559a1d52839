import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildEventfulRun } from '../support/auditRuns';
import { openInChromium, type BrowserPage } from '../support/chromium';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';

/*
 * Issue 10 item 2: `orbit history <run> --html` writes one self-contained page. Opened in a real
 * headless Chromium it must show the run's steps, attempts, retries and their waits, the crash and
 * the resume, the worker of each attempt, and every event, without fetching anything.
 */

interface Shown {
  title: string;
  summary: string;
  attempts: { step: string; attempt: number; outcome: string; worker: string; width: number; x: number; label: string }[];
  waits: { kind: string; width: number }[];
  gaps: { kind: string; worker: string; width: number; text: string }[];
  markers: string[];
  eventRows: number;
  eventTypes: string[];
}

describe('orbit history --html in a real browser', () => {
  let h: E2eHarness;
  let runId: string;
  let dir: string;
  let page: BrowserPage | undefined;
  let events: { type: string; writer: string }[];

  beforeAll(async () => {
    h = await createE2eHarness('histhtml');
    runId = await buildEventfulRun(h);
    events = await h.events(runId);
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-html-'));
  }, 60_000);
  afterAll(async () => {
    await page?.close();
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows steps, attempts, retries, the crash, the resume and each attempt’s worker, with no network fetch', async () => {
    const r = await h.cli(['history', runId, '--html']);
    expectExit(r, 0);
    expect(r.stderr).toBe('');
    const file = path.join(dir, 'run.html');
    writeFileSync(file, r.stdout);
    const url = pathToFileURL(file).href;
    page = await openInChromium(url);

    // Nothing but the page itself was requested.
    expect(page.requests).toEqual([url]);

    const shown = await page.evaluate<Shown>(`(() => {
      const box = (el) => el.getBoundingClientRect();
      return {
        title: document.title,
        summary: document.getElementById('summary').innerText,
        attempts: [...document.querySelectorAll('g.attempt')].map((g) => ({
          step: g.dataset.step, attempt: Number(g.dataset.attempt), outcome: g.dataset.outcome, worker: g.dataset.worker,
          width: box(g.querySelector('rect')).width, x: box(g.querySelector('rect')).x,
          label: [...g.querySelectorAll('text')].map((t) => t.textContent).join(' | '),
        })),
        waits: [...document.querySelectorAll('rect.wait')].map((w) => ({ kind: w.dataset.kind, width: box(w).width })),
        gaps: [...document.querySelectorAll('g.gap')].map((g) => ({
          kind: g.dataset.kind, worker: g.dataset.worker, width: box(g.querySelector('rect')).width, text: g.textContent,
        })),
        markers: [...document.querySelectorAll('g.marker')].map((m) => m.dataset.kind),
        eventRows: document.querySelectorAll('#events tbody tr').length,
        eventTypes: [...document.querySelectorAll('#events tbody tr td:nth-child(4)')].map((td) => td.textContent),
      };
    })()`);

    const [first, second] = [...new Set(events.map((e) => e.writer))];
    expect(shown.title).toBe(`Run ${runId}`);
    expect(shown.summary).toContain('data-pipeline');
    expect(shown.summary).toContain('succeeded');
    expect(shown.attempts.map((a) => [a.step, a.attempt, a.outcome, a.worker])).toEqual([
      ['fetch-data', 1, 'success', first],
      ['transform-data', 1, 'failed', first],
      ['transform-data', 2, 'failed', first],
      ['transform-data', 3, 'success', first],
      ['load-data', 1, 'interrupted', first],
      ['load-data', 2, 'success', second],
      ['notify', 1, 'success', second],
    ]);
    // Each attempt's worker is written beside its bar, and every bar is visible and in time order.
    for (const a of shown.attempts) {
      expect(a.label).toContain(a.worker);
      expect(a.width).toBeGreaterThan(0);
    }
    const xs = shown.attempts.map((a) => a.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    // Two retry back-offs; the crash spans the time until the second worker resumed the run.
    expect(shown.waits.map((w) => w.kind)).toEqual(['retry', 'retry']);
    expect(shown.gaps).toHaveLength(1);
    expect(shown.gaps[0]).toMatchObject({ kind: 'crash', worker: first });
    expect(shown.gaps[0]!.text).toContain('during load-data');
    expect(shown.gaps[0]!.width).toBeGreaterThan(20);
    expect(shown.markers).toEqual(['claimed', 'resumed', 'succeeded']);
    // The events table holds every event, in order.
    expect(shown.eventRows).toBe(events.length);
    expect(shown.eventTypes).toEqual(events.map((e) => e.type));

    const png = await page.screenshot(1000);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);

  it('piped, history prints the timeline in plain ASCII with durations, then every event; --results adds results', async () => {
    const r = await h.cli(['history', runId]);
    expectExit(r, 0);
    expect(r.stdout).not.toContain('\u001b['); // no colour codes when piped
    expect(r.lines[0]).toMatch(
      new RegExp(
        `^Run ${runId} \\(data-pipeline\\): succeeded after [0-9.]+m?s; 7 attempt\\(s\\) of 4 step\\(s\\) by 2 worker\\(s\\)$`,
      ),
    );
    const rows = r.lines.filter((l) => /^\S.* \|[ #.x]{40}\| /.test(l));
    expect(rows.map((l) => l.split(' |')[0]!.trim())).toEqual([
      'fetch-data #1',
      'transform-data #1',
      'transform-data #2',
      'transform-data #3',
      'load-data #1',
      '(crash)',
      'load-data #2',
      'notify #1',
    ]);
    expect(rows[1]).toMatch(/failed .*planned failure 1; retry after \d+ms$/);
    expect(rows[4]).toMatch(/ ≤[0-9.]+m?s interrupted /);
    expect(r.lines.slice(r.lines.indexOf('Events') + 1)).toHaveLength(events.length);

    const onlyEvents = await h.cli(['history', runId, '--events']);
    expect(onlyEvents.lines).toEqual(r.lines.slice(r.lines.indexOf('Events') + 1));

    const withResults = await h.cli(['history', runId, '--results']);
    expect(withResults.stdout).toContain('result: {"saw":["fetch-data","transform-data"],"step":"load-data","attempt":2}');
  });

  it('--html is refused with --follow or --json', async () => {
    const r = await h.cli(['history', runId, '--html', '--json']);
    expectExit(r, 2);
    expect(r.stderr).toMatch(/--html/);
  });
});
