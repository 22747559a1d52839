import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openInChromium, type BrowserPage } from '../support/chromium';
import { createE2eHarness, expectExit, REPO_ROOT, type CliProcess, type E2eHarness } from '../support/cli';
import { waitFor } from '../support/waitFor';

/*
 * Issue 21, "Done when": `orbit ui` driven in a real headless Chromium. A run started after the
 * page loaded appears without a reload; resume on a killed run finishes it; cancel works; hostile
 * metadata renders as text and opens no dialog; no console error and no CSP violation anywhere.
 * Screenshots of each page go to docs/ui/ with ORBIT_UI_SCREENSHOTS=docs (else a temp dir).
 */

const HOSTILE = '<img src=x onerror=alert(1)>';
const UI_PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'uiPipelines.js');
const SHOTS =
  process.env.ORBIT_UI_SCREENSHOTS === 'docs'
    ? path.join(REPO_ROOT, 'docs', 'ui')
    : mkdtempSync(path.join(tmpdir(), 'orbit-ui-shots-'));

describe('orbit ui in a real browser', () => {
  let h: E2eHarness;
  let ui: CliProcess;
  let base: string;
  let page: BrowserPage;

  /** Polls an expression in the page (it may be navigating: then it is simply not true yet). */
  const until = async <T>(what: string, expression: string): Promise<T> =>
    waitFor(
      async () => {
        try {
          return await page.evaluate<T>(expression);
        } catch {
          return undefined;
        }
      },
      { what, everyMs: 100 },
    );

  const shot = async (name: string) => {
    const png = await page.screenshot(1400);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    writeFileSync(path.join(SHOTS, name), png);
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await createE2eHarness('uibrowser');
    ui = h.start(['--pipelines', UI_PIPELINES, '--threshold', '1s', 'ui', '--port', '0', '--user', 'alice'], {
      timeoutMs: 600_000,
      pipelines: false,
    });
    const url = await waitFor(() => /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(ui.stdout)?.[1], {
      what: 'orbit ui to print its URL',
    });
    base = url;
    page = await openInChromium(base);
  }, 90_000);
  afterAll(async () => {
    await page?.close();
    ui?.kill('SIGTERM');
    await ui?.done;
    await h?.dispose();
    if (process.env.ORBIT_UI_SCREENSHOTS !== 'docs') rmSync(SHOTS, { recursive: true, force: true });
  });

  it('shows a run started after the page loaded, live, with hostile metadata as text', async () => {
    await until('the live feed to connect', `document.body.dataset.liveReady === '1'`);
    await page.evaluate(`(window.__sameDocument = 'yes')`);
    const r = await h.cli(['run', 'etl-pipeline', '--metadata', JSON.stringify({ customer: HOSTILE, batch: 'b-17' })]);
    expectExit(r, 0);
    const runId = /Run ID: (\S+)/.exec(r.stdout)?.[1] ?? '';
    const shown = await until<{ status: string; meta: string }>(
      'the new run to appear as succeeded without a reload',
      `(() => { const row = document.querySelector('tr[data-run="${runId}"]');
        return row && row.querySelector('.badge').textContent === 'succeeded'
          ? { status: 'succeeded', meta: row.querySelector('.meta-cell').textContent } : undefined; })()`,
    );
    expect(shown.meta).toContain(HOSTILE);
    expect(await page.evaluate<string>(`window.__sameDocument`)).toBe('yes');
    expect(await page.evaluate<number>(`document.querySelectorAll('img').length`)).toBe(0);
    // The run page shows it too, as text.
    await page.navigate(`${base}runs/${runId}`);
    expect(await page.evaluate<string>(`document.querySelector('details.input pre').textContent`)).toContain(HOSTILE);
    expect(await page.evaluate<number>(`document.querySelectorAll('img').length`)).toBe(0);
    expect(page.dialogs).toEqual([]);
  });

  it('resumes a killed run from its page (confirmation, then the library), journaled as ui:alice', async () => {
    const { runId } = await h.startRunAndKillWhen(
      'data-pipeline',
      { fail: { 'transform-data': 1 }, sleepMs: { 'load-data': 400 } },
      (ev) => ev.some((e) => e.type === 'step.started' && e.step_name === 'load-data'),
    );
    await h.waitUntilStale([runId], 1000);
    await page.navigate(`${base}runs/${runId}`);
    await until('the run to show as interrupted', `document.querySelector('.badge.s-interrupted') !== null`);
    await page.evaluate(`document.querySelector('.actions a.primary').click()`);
    await until('the confirmation page', `document.getElementById('confirm') !== null`);
    await page.evaluate(`document.getElementById('confirm').click()`);
    const outcome = await until<string>(
      'the run page to show the resumed run succeeded (live), or an error',
      `location.pathname === '/runs/${runId}' && (document.querySelector('.flash.error') ? document.querySelector('.flash.error').textContent
        : document.querySelector('.facts .badge').textContent === 'succeeded' ? 'succeeded' : undefined)`,
    );
    expect(outcome).toBe('succeeded');
    const resumed = (await h.events(runId)).find((e) => e.type === 'run.resumed');
    expect(resumed?.payload).toMatchObject({ requestedBy: 'ui:alice', reason: 'resume asked from the dashboard (ui:alice)' });
    await until('the crash/resume band', `document.getElementById('recovery-band') !== null`);
    expect(await page.evaluate<string>(`document.getElementById('chain').textContent`)).toContain('Journal verified');
    await page.navigate(`${base}runs/${runId}`);
    await shot('run.png');
  });

  it('cancels a running run from its page', async () => {
    const { runId, proc } = await h.startRunUntil(
      'data-pipeline',
      { holdUntil: { 'fetch-data': path.join(tmpdir(), `never-${Date.now()}`) } },
      (ev) => ev.some((e) => e.type === 'step.started'),
    );
    await page.navigate(`${base}runs/${runId}`);
    await page.evaluate(`document.querySelector('.actions a.danger').click()`);
    await until('the confirmation page', `document.getElementById('confirm') !== null`);
    await page.evaluate(`document.getElementById('confirm').click()`);
    await until(
      'the run page to show it cancelled',
      `document.querySelector('.facts .badge') && document.querySelector('.facts .badge').textContent === 'cancelled'`,
    );
    expect((await proc.done).code).not.toBe(0);
    expect((await h.run(runId))?.status).toBe('cancelled');
    await page.navigate(base);
    await until('the runs list', `document.getElementById('runs') !== null`);
    await shot('runs.png');
  });

  it('draws a run with branches one lane per branch', async () => {
    const r = await h.cli(
      [
        '--pipelines',
        UI_PIPELINES,
        'run',
        'fan-out',
        '--metadata',
        JSON.stringify({
          fail: { prices: 1 },
          sleepMs: { fetch: 150, users: 400, orders: 700, prices: 200, join: 150, publish: 100 },
        }),
      ],
      { pipelines: false },
    );
    expectExit(r, 0);
    const runId = /Run ID: (\S+)/.exec(r.stdout)?.[1] ?? '';
    await page.navigate(`${base}runs/${runId}`);
    const lanes = await until<string[]>(
      'the branch lanes',
      `(() => { const l = [...document.querySelectorAll('#timeline g.branch title')].map((t) => t.textContent); return l.length ? l : undefined; })()`,
    );
    expect(lanes).toEqual(['fetch → users → join → publish', 'orders', 'prices']);
    await shot('run-branches.png');
  });

  it('shows the workers (an idle one too), pipelines and recovery pages', async () => {
    const worker = h.start(['--pipelines', UI_PIPELINES, 'worker', '--concurrency', '4'], {
      timeoutMs: 60_000,
      pipelines: false,
    });
    await waitFor(
      async () => {
        await page.navigate(`${base}workers`);
        return page.evaluate<boolean | null>(
          `[...document.querySelectorAll('#workers tr.live')].some((r) => r.textContent.includes('fan-out')) || null`,
        );
      },
      { what: 'the idle worker on the workers page', everyMs: 300 },
    );
    await shot('workers.png');
    worker.kill('SIGTERM');
    await worker.done;
    // The pipeline with branches is drawn as a graph (three columns of steps and more).
    await page.navigate(`${base}pipelines`);
    expect(
      await until<string>('the fan-out graph', `document.querySelector('[data-pipeline="fan-out"] svg.graph')?.dataset.columns`),
    ).toBe('4');
    for (const [url, id, file] of [
      ['pipelines', 'pipelines', 'pipelines.png'],
      ['recovery', 'recovery-charts', 'recovery.png'],
    ] as const) {
      await page.navigate(`${base}${url}`);
      await until(`the ${url} page`, `document.getElementById('${id}') !== null`);
      await shot(file);
    }
  });

  it('logged no console error, no CSP violation and opened no dialog on any page', () => {
    expect(page.errors).toEqual([]);
    expect(page.dialogs).toEqual([]);
  });
});
