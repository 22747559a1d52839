import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openInChromium, type BrowserPage } from '../support/chromium';
import { createE2eHarness, expectExit, REPO_ROOT, type CliProcess, type E2eHarness } from '../support/cli';
import { waitFor } from '../support/waitFor';

/*
 * Issue 19 item 7, "visible everywhere": a sleeping run and a waiting run, suspended by a real
 * worker, as `orbit runs` (text and --json), `orbit history` (text and --html, opened in headless
 * Chromium) and the dashboard (`orbit ui`, Chromium) show them: `sleeping until …`, `waiting for
 * "approved" (times out …)`, the sleep drawn to its end and the wait to its event; never
 * "running", never a crash at the wake-up.
 */

const PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'waitPipelines.js');
const opts = { pipelines: false } as const;
const withPipelines = (args: readonly string[]) => ['--pipelines', PIPELINES, ...args];
/** `2026-12-08 01:00:00Z`: how every view writes the end of a sleep or a wait. */
const shown = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
/** ORBIT_UI_SCREENSHOTS=docs retakes docs/history-sleeping.png and docs/ui/run-waiting.png (as ui-browser does). */
const SHOTS = process.env.ORBIT_UI_SCREENSHOTS === 'docs' ? path.join(REPO_ROOT, 'docs') : null;

describe('sleeping and waiting runs, as every view shows them', () => {
  let h: E2eHarness;
  let dir: string;
  let page: BrowserPage | undefined;
  let napId: string;
  let approvalId: string;
  let foreverId: string;
  let napUntil: Date;
  let approvalTimeout: Date;

  const queue = async (pipeline: string, metadata: object): Promise<string> => {
    const r = await h.cli(withPipelines(['run', pipeline, '--queue', '--json', '--metadata', JSON.stringify(metadata)]), opts);
    expectExit(r, 0);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  };
  const untilOf = async (runId: string, step: string): Promise<Date> =>
    new Date((await h.steps(runId)).find((s) => s.name === step)?.next_retry_at as unknown as string);

  const openPage = async (url: string): Promise<BrowserPage> => {
    if (page === undefined) page = await openInChromium(url);
    else await page.navigate(url);
    return page;
  };
  const htmlOf = async (runId: string): Promise<BrowserPage> => {
    const r = await h.cli(withPipelines(['history', runId, '--html']), opts);
    expectExit(r, 0);
    const file = path.join(dir, `${runId}.html`);
    writeFileSync(file, r.stdout);
    return openPage(pathToFileURL(file).href);
  };

  beforeAll(async () => {
    h = await createE2eHarness('e2e_waitview');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-waitview-'));
    const worker = h.start(withPipelines(['worker', '--concurrency', '3']), opts);
    napId = await queue('long-nap', { order: 'n-1' });
    approvalId = await queue('approval', { orderId: 'o-1' });
    foreverId = await queue('approval-forever', { orderId: 'o-2' });
    await h.waitFor(
      'the runs to be suspended',
      async () =>
        (await h.run(napId))?.status === 'sleeping' &&
        (await h.run(approvalId))?.status === 'waiting' &&
        (await h.run(foreverId))?.status === 'waiting',
      30_000,
    );
    // Suspended runs need no process: every view below reads them with no worker running.
    worker.kill('SIGTERM');
    await worker.done;
    napUntil = await untilOf(napId, 'nap');
    approvalTimeout = await untilOf(approvalId, 'approve');
  }, 60_000);
  afterAll(async () => {
    await page?.close();
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('orbit runs: STATUS says until when it sleeps and what it waits for; --json keeps its fields and adds the wait', async () => {
    const r = await h.cli(withPipelines(['runs']), opts);
    expectExit(r, 0);
    const row = (id: string) => r.lines.find((l) => l.startsWith(id)) ?? '';
    expect(row(napId)).toMatch(
      new RegExp(`^${napId}\\s+long-nap\\s+sleeping until ${shown(napUntil)}\\s+1/3\\s+\\S+\\s+\\S+ so far$`),
    );
    expect(row(approvalId)).toMatch(new RegExp(`\\s+waiting for "approved" \\(times out ${shown(approvalTimeout)}\\)\\s+1/3\\s`));
    expect(row(foreverId)).toMatch(/\s+waiting for "approved" \(no timeout\)\s+1\/3\s/);
    // The line under it names the step.
    expect(r.lines[r.lines.indexOf(row(napId)) + 1]).toBe('  in step nap');
    // The column is as wide as its longest entry: the header's STEPS sits over every row's steps.
    const stepsAt = r.lines[0]!.indexOf('STEPS');
    expect(row(approvalId).indexOf('1/3')).toBe(stepsAt);

    const waiting = await h.cli(withPipelines(['runs', '--status', 'waiting']), opts);
    expect(waiting.stdout).not.toContain(napId);
    expect(waiting.stdout).toContain(approvalId);

    const json = await h.cli(withPipelines(['runs', '--json']), opts);
    expectExit(json, 0);
    const runs = JSON.parse(json.stdout) as { runId: string; status: string; owner: unknown; suspended?: unknown }[];
    expect(runs.find((x) => x.runId === napId)).toMatchObject({
      status: 'sleeping',
      owner: null,
      suspended: { kind: 'sleep', step: 'nap', until: napUntil.toISOString(), event: null },
    });
    expect(runs.find((x) => x.runId === foreverId)?.suspended).toEqual({
      kind: 'wait',
      step: 'approve',
      until: null,
      event: 'approved',
    });
  });

  it('orbit history: the header and the step row say it, the bar runs on to the end of the sleep', async () => {
    const r = await h.cli(withPipelines(['history', napId]), opts);
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(
      new RegExp(`^Run ${napId} \\(long-nap\\): sleeping until ${shown(napUntil)} in step nap, \\S+ so far; no worker holds it;`),
    );
    const nap = r.lines.find((l) => l.startsWith('nap #1')) ?? '';
    expect(nap).toMatch(/~+\| +\S+ sleeping +\S+; sleeping until /);
    expect(nap).toContain(`sleeping until ${shown(napUntil)}`);
    expect(r.stdout).not.toContain('(crash)');
    expect(r.stdout).toMatch(/step\.sleeping nap #1 {2}sleeping until /);
    const w = await h.cli(withPipelines(['history', approvalId]), opts);
    expect(w.lines[0]).toContain(`waiting for "approved" (times out ${shown(approvalTimeout)}) in step approve`);
  });

  it('history --html in Chromium: a labelled band to the end of the sleep, a sleeping state, never "running"', async () => {
    const p = await htmlOf(napId);
    const seen = await p.evaluate<{
      summary: string;
      state: string;
      band: { text: string; width: number; trackWidth: number; end: string };
      note: string;
      status: string;
      gaps: number;
    }>(`(() => {
      const band = document.querySelector('#timeline .row.step[data-step="nap"] i.pause');
      const row = document.querySelector('#timeline .row.step[data-step="nap"]');
      return {
        summary: document.getElementById('summary').innerText,
        state: document.getElementById('state').innerText,
        band: { text: band.innerText, width: band.getBoundingClientRect().width,
                trackWidth: row.querySelector('.trk').getBoundingClientRect().width, end: band.dataset.end },
        note: row.querySelector('.note').innerText,
        status: row.dataset.status,
        gaps: document.querySelectorAll('#timeline .row.gap').length,
      };
    })()`);
    expect(seen.summary).toContain(`sleeping until ${shown(napUntil)}`);
    expect(seen.summary).not.toMatch(/running/);
    expect(seen.state).toMatch(new RegExp(`^Sleeping until ${shown(napUntil)} in step nap, for \\S+ so far`));
    expect(seen.state).toContain('No worker holds the run and it is not interrupted');
    // The hour of sleep ahead is most of the axis: the band is nearly the whole track, and labelled.
    expect(seen.band.end).toBe('on');
    expect(seen.band.text).toBe(`sleeping until ${shown(napUntil)}`);
    expect(seen.band.width).toBeGreaterThan(seen.band.trackWidth * 0.9);
    expect(seen.status).toBe('sleeping');
    expect(seen.note).toMatch(/^sleeping until .* · \S+ so far/);
    expect(seen.gaps).toBe(0);
    if (SHOTS !== null) writeFileSync(path.join(SHOTS, 'history-sleeping.png'), await p.screenshot(1400));

    const w = await htmlOf(foreverId);
    expect(await w.evaluate<string>(`document.getElementById('state').innerText`)).toMatch(
      new RegExp(
        `^Waiting for "approved" \\(no timeout\\) in step approve, .*orbit send ${foreverId} approved delivers the event\\.$`,
      ),
    );
  }, 60_000);

  it('the dashboard: the runs page and the run page show the same chips, and the filter has sleeping and waiting', async () => {
    const ui: CliProcess = h.start(withPipelines(['ui', '--port', '0']), { ...opts, timeoutMs: 120_000 });
    try {
      const base = await waitFor(() => /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(ui.stdout)?.[1], {
        what: 'orbit ui to print its URL',
      });
      const p = await openPage(base);
      const runsPage = await p.evaluate<{ chips: Record<string, string>; options: string[]; counts: string[] }>(`(() => ({
        chips: Object.fromEntries([...document.querySelectorAll('tr.run')].map((tr) => [tr.dataset.run, tr.querySelector('.badge').innerText])),
        options: [...document.querySelectorAll('select[name=status] option')].map((o) => o.value),
        counts: [...document.querySelectorAll('#counts .count')].map((c) => c.innerText.replace(/\\s+/g, ' ').toLowerCase()),
      }))()`);
      expect(runsPage.chips[napId]).toBe(`sleeping until ${shown(napUntil)}`);
      expect(runsPage.chips[approvalId]).toBe(`waiting for "approved" (times out ${shown(approvalTimeout)})`);
      expect(runsPage.chips[foreverId]).toBe('waiting for "approved" (no timeout)');
      expect(runsPage.options).toEqual(expect.arrayContaining(['sleeping', 'waiting']));
      expect(runsPage.counts).toEqual(expect.arrayContaining(['1 sleeping', '2 waiting']));

      await p.navigate(`${base}?status=waiting`);
      expect(await p.evaluate<string[]>(`[...document.querySelectorAll('tr.run')].map((tr) => tr.dataset.run)`)).toEqual(
        expect.arrayContaining([approvalId, foreverId]),
      );
      expect(await p.evaluate<number>(`document.querySelectorAll('tr.run[data-run="${napId}"]').length`)).toBe(0);

      await p.navigate(`${base}runs/${encodeURIComponent(approvalId)}`);
      const runPage = await p.evaluate<{
        chip: string;
        facts: string;
        step: string;
        pause: string | null;
        crash: number;
      }>(`(() => ({
        chip: document.querySelector('.facts .badge').innerText,
        facts: document.querySelector('.facts').innerText.replace(/\\s+/g, ' '),
        step: document.querySelector('tr.step[data-step="approve"] .badge').innerText,
        pause: (document.querySelector('#timeline g.pause-wait.on') || {}).textContent || null,
        crash: document.querySelectorAll('#timeline .band-crash').length,
      }))()`);
      expect(runPage.chip).toBe(`waiting for "approved" (times out ${shown(approvalTimeout)})`);
      expect(runPage.facts).toContain('in step approve, no worker holds it');
      expect(runPage.facts).not.toContain('running for');
      expect(runPage.step).toBe(runPage.chip);
      expect(runPage.pause).toContain('waiting for "approved"');
      expect(runPage.crash).toBe(0);
      if (SHOTS !== null) writeFileSync(path.join(SHOTS, 'ui', 'run-waiting.png'), await p.screenshot(1400));
    } finally {
      ui.kill('SIGTERM');
      await ui.done;
    }
  }, 90_000);

  it('woken by its event: history --html draws the wait up to the event, with its sender, and no crash', async () => {
    const worker = h.start(withPipelines(['worker']), opts);
    try {
      const sent = await h.cli(withPipelines(['send', approvalId, 'approved', '--data', '{"ok":true}', '--sender', 'ana']), opts);
      expectExit(sent, 0);
      await h.waitFor('the run to succeed', async () => (await h.run(approvalId))?.status === 'success', 30_000);
    } finally {
      worker.kill('SIGTERM');
      await worker.done;
    }
    const p = await htmlOf(approvalId);
    const seen = await p.evaluate<{ band: string; end: string; gaps: number; markers: string[] }>(`(() => {
      const band = document.querySelector('#timeline .row.step[data-step="approve"] i.pause');
      return { band: band.title, end: band.dataset.end, gaps: document.querySelectorAll('#timeline .row.gap').length,
               markers: [...document.querySelectorAll('#timeline .overlay b')].map((m) => m.dataset.kind) };
    })()`);
    expect(seen.end).toBe('received');
    expect(seen.band).toMatch(/^approve attempt 1: waited \S+ for "approved": received from ana$/);
    expect(seen.gaps).toBe(0);
    expect(seen.markers).toEqual(['claimed', 'suspended', 'event', 'resumed', 'succeeded']);
    const text = await h.cli(withPipelines(['history', approvalId]), opts);
    expect(text.lines.find((l) => l.startsWith('approve #1'))).toMatch(
      /success .*; waited \S+ for "approved": received from ana$/,
    );
  }, 60_000);
});
