import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildEventfulRun } from '../support/auditRuns';
import { openInChromium, type BrowserPage } from '../support/chromium';
import { createE2eHarness, expectExit, REPO_ROOT, type E2eHarness } from '../support/cli';

/*
 * Issue 10 item 2, issue 21 item 5: `orbit history <run> --html` writes one self-contained page.
 * Opened in a real headless Chromium it shows one row per step with its attempts, errors written
 * out, the crash and the resume, the worker of each attempt, the journal's verification, every
 * event, fills the window, and fetches nothing; a killed run is shown interrupted, not running.
 * With ORBIT_UI_SCREENSHOTS=docs it retakes docs/history-timeline.png.
 */

interface Shown {
  title: string;
  summary: string;
  chain: string;
  lastHash: string;
  steps: { step: string; attempts: number; status: string; bars: number; note: string }[];
  gaps: { kind: string; worker: string; width: number; text: string }[];
  markers: string[];
  stepsTable: string;
  timelineWidth: number;
  eventRows: number;
  eventTypes: string[];
}

const SHOTS = process.env.ORBIT_UI_SCREENSHOTS === 'docs' ? path.join(REPO_ROOT, 'docs') : null;

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

  const open = async (id: string, name: string): Promise<Shown> => {
    const r = await h.cli(['--threshold', '1s', 'history', id, '--html']);
    expectExit(r, 0);
    expect(r.stderr).toBe('');
    const file = path.join(dir, name);
    writeFileSync(file, r.stdout);
    const url = pathToFileURL(file).href;
    if (page === undefined) page = await openInChromium(url);
    else await page.navigate(url);
    return page.evaluate<Shown>(`(() => {
      const box = (el) => el.getBoundingClientRect();
      return {
        title: document.title,
        summary: document.getElementById('summary').innerText,
        chain: document.getElementById('chain').innerText,
        lastHash: (document.getElementById('last-hash') || {}).textContent,
        steps: [...document.querySelectorAll('#timeline .row.step')].map((g) => ({
          step: g.dataset.step, attempts: Number(g.dataset.attempts), status: g.dataset.status,
          bars: g.querySelectorAll('.trk i:not(.w)').length, note: g.querySelector('.note').innerText,
        })),
        gaps: [...document.querySelectorAll('#timeline .row.gap')].map((g) => ({
          kind: g.dataset.kind, worker: g.dataset.worker, width: box(g.querySelector('.trk i')).width, text: g.innerText,
        })),
        markers: [...document.querySelectorAll('#timeline .overlay b')].map((m) => m.dataset.kind),
        stepsTable: document.getElementById('steps').innerText,
        timelineWidth: box(document.getElementById('timeline')).width,
        eventRows: document.querySelectorAll('#events tbody tr').length,
        eventTypes: [...document.querySelectorAll('#events tbody tr td:nth-child(4)')].map((td) => td.textContent),
      };
    })()`);
  };

  it('shows each step with its attempts, errors written out, the crash, the resume, each worker and the verified chain, with no network fetch', async () => {
    const shown = await open(runId, 'run.html');
    // Nothing but the page itself was requested.
    expect(page?.requests).toEqual([pathToFileURL(path.join(dir, 'run.html')).href]);

    const [first, second] = [...new Set(events.map((e) => e.writer))];
    expect(shown.title).toBe(`Run ${runId}`);
    expect(shown.summary).toContain('data-pipeline');
    expect(shown.summary).toContain('succeeded');
    // One row per step, its retries grouped in it.
    expect(shown.steps.map((s) => [s.step, s.attempts, s.status, s.bars])).toEqual([
      ['fetch-data', 1, 'success', 1],
      ['transform-data', 3, 'success', 3],
      ['load-data', 2, 'success', 2],
      ['notify', 1, 'success', 1],
    ]);
    expect(shown.steps[1]!.note).toContain('3 attempts');
    expect(shown.steps[2]!.note).toContain(`${first}, ${second}`);
    // Errors are on the page, not only in tooltips.
    expect(shown.stepsTable).toMatch(/transform-data\s+succeeded\s+3\s+2 failures/);
    expect(shown.stepsTable).toContain('planned failure 1');
    expect(shown.gaps).toHaveLength(1);
    expect(shown.gaps[0]).toMatchObject({ kind: 'crash', worker: first });
    expect(shown.gaps[0]!.text).toContain('during load-data');
    expect(shown.gaps[0]!.width).toBeGreaterThan(20);
    expect(shown.markers).toEqual(['claimed', 'resumed', 'succeeded']);
    // Tied to the verified journal: its state and head.
    expect(shown.chain).toContain('Journal verified');
    expect(shown.lastHash).toMatch(/^[0-9a-f]{64}$/);
    // No fixed width: the drawing fills a 1,400 px window.
    const png = await page!.screenshot(1400);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (SHOTS !== null) writeFileSync(path.join(SHOTS, 'history-timeline.png'), png);
    expect(await page!.evaluate<number>(`document.getElementById('timeline').getBoundingClientRect().width`)).toBeGreaterThan(
      1300,
    );
    // The events table holds every event, in order.
    expect(shown.eventRows).toBe(events.length);
    expect(shown.eventTypes).toEqual(events.map((e) => e.type));
  }, 60_000);

  it('a killed run not resumed yet: interrupted, for how long and during which step; the step after it never started', async () => {
    const { runId: killed } = await h.startRunAndKillWhen('data-pipeline', { sleepMs: { 'transform-data': 5000 } }, (ev) =>
      ev.some((e) => e.type === 'step.started' && e.step_name === 'transform-data'),
    );
    await h.waitUntilStale([killed], 1000);
    const shown = await open(killed, 'killed.html');
    expect(shown.summary).toContain('interrupted');
    expect(shown.summary).not.toMatch(/running/);
    expect(shown.steps.map((s) => [s.step, s.status])).toEqual([
      ['fetch-data', 'success'],
      ['transform-data', 'interrupted'],
      ['load-data', 'never'],
      ['notify', 'never'],
    ]);
    expect(shown.steps[1]!.note).toMatch(/^interrupted · no outcome, started \d/);
    expect(shown.steps[2]!.note).toContain('not started (run interrupted)');
    expect(shown.gaps).toHaveLength(1);
    expect(shown.gaps[0]!.text).toContain('during transform-data after its last event; not resumed');
    expect(shown.chain).toContain('Journal verified');
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
