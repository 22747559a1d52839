import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import * as E from 'fp-ts/Either';
import { cancelRun } from '../../src/api/cancelRun';
import { loadRunState } from '../../src/api/loadRunState';
import { readRunEvents } from '../../src/api/readRunEvents';
import { searchRuns } from '../../src/api/searchRuns';
import { runPipeline } from '../../src/api/runPipeline';
import { startWorker } from '../../src/api/startWorker';
import { startUiServer, type UiServer } from '../../src/cli/ui/server';
import { definePipeline } from '../../src/index';
import { CLI_PATH } from '../support/cli';
import { createTestClient, type TestClient } from '../support/testClient';
import { waitFor } from '../support/waitFor';

/*
 * `orbit ui` over HTTP (issue 21, "Safe by default"): the server the CLI starts, in-process on a
 * free port, against a private schema. What a browser cannot be trusted to enforce is checked at
 * the HTTP level here; test/e2e/ui-browser.test.ts drives the pages in Chromium.
 */

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const call = (
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        headers: { ...(opts.body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });

const HOSTILE = '<img src=x onerror=alert(1)>';

let tc: TestClient;
let ui: UiServer;
let readOnly: UiServer;
let release: () => void = () => undefined;
const hold = new Promise<void>((resolve) => (release = resolve));

const pipeline = definePipeline({
  name: 'ui-flow',
  steps: [
    { name: 'first', handler: () => ({ success: true, data: { note: '</pre><script>alert(2)</script>' } }) },
    {
      name: 'held',
      handler: async (ctx) => {
        if ((ctx.metadata as { hold?: boolean }).hold === true) {
          await Promise.race([hold, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
        }
        return { success: true };
      },
    },
  ],
});

const ok = () => ({ success: true as const });
const diamond = definePipeline({
  name: 'ui-diamond',
  steps: [
    { name: 'fetch', handler: ok },
    { name: 'users', dependsOn: ['fetch'], handler: ok },
    { name: 'orders', dependsOn: ['fetch'], handler: ok },
    { name: 'join', dependsOn: ['users', 'orders'], handler: ok },
  ],
});

beforeAll(async () => {
  tc = await createTestClient({ prefix: 'uihttp' });
  tc.registry.registerPipeline(pipeline);
  tc.registry.registerPipeline(diamond);
  const s = await startUiServer({ client: tc.client, port: 0, user: 'alice', pollMs: 100 });
  if (E.isLeft(s)) throw new Error(s.left._tag);
  ui = s.right;
  const r = await startUiServer({ client: tc.client, port: 0, readOnly: true, pollMs: 100 });
  if (E.isLeft(r)) throw new Error(r.left._tag);
  readOnly = r.right;
});
afterAll(async () => {
  release();
  await ui?.close();
  await readOnly?.close();
  await tc.dispose();
});

const csrfOf = (html: string): string => /<meta name="csrf" content="([^"]+)"/.exec(html)?.[1] ?? '';

describe('orbit ui over HTTP', () => {
  it('escapes hostile metadata, results and names, and forbids inline script by CSP', async () => {
    const ran = await runPipeline(pipeline, { customer: HOSTILE }, { client: tc.client });
    if (E.isLeft(ran)) throw new Error(ran.left._tag);
    const list = await call(ui.url, 'GET', '/');
    expect(list.status).toBe(200);
    expect(list.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(list.headers['x-content-type-options']).toBe('nosniff');
    expect(list.body).not.toContain(HOSTILE);
    expect(list.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const page = await call(ui.url, 'GET', `/runs/${ran.right.runId}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain(HOSTILE);
    expect(page.body).not.toContain('<script>alert(2)');
    expect(page.body).toContain('&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    // The only scripts are the package's own file.
    expect([...page.body.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual([
      expect.stringMatching(/^<script src="\/assets\/app\.js\?v=\w+" defer>$/),
    ]);
    // A hostile run id in the URL is text too.
    const missing = await call(ui.url, 'GET', `/runs/${encodeURIComponent('<svg onload=alert(3)>')}`);
    expect(missing.status).toBe(404);
    expect(missing.body).not.toContain('<svg onload');
    // Searching by the metadata value finds the run.
    const found = await call(ui.url, 'GET', `/?q=${encodeURIComponent(HOSTILE)}`);
    expect(found.body).toContain(ran.right.runId);
  });

  it("serves only the package's own asset files, cached by version", async () => {
    const page = await call(ui.url, 'GET', '/');
    const v = /app\.js\?v=(\w+)/.exec(page.body)?.[1];
    const js = await call(ui.url, 'GET', `/assets/app.js?v=${v}`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const path of [
      '/assets/../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/app.js/../../../sql/001_journal.sql',
      '/assets//etc/passwd',
      '/assets/',
      '/../../etc/passwd',
    ]) {
      const r = await call(ui.url, 'GET', path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.body).not.toContain('orbit-pipeline');
    }
  });

  it("times a running run by the database's clock, not the dashboard host's", async () => {
    // A host clock a day ahead: the elapsed time and the "now" line must still be the database's.
    const skewed = await startUiServer({ client: { ...tc.client, clock: { now: () => Date.now() + 86_400_000 } }, port: 0 });
    if (E.isLeft(skewed)) throw new Error(skewed.left._tag);
    const running = runPipeline(pipeline, { hold: true }, { client: tc.client });
    let runId: string | undefined;
    try {
      runId = await waitFor(
        async () => {
          const r = await call(skewed.right.url, 'GET', '/?status=running');
          return /data-run="([^"]+)"/.exec(r.body)?.[1];
        },
        { what: 'the held run on the runs page', everyMs: 50 },
      );
      const page = await call(skewed.right.url, 'GET', `/runs/${runId}`);
      const elapsed = /class="elapsed" data-since="[^"]+">([^<]+)</.exec(page.body)?.[1] ?? '';
      const ms = elapsed.endsWith('ms')
        ? Number(elapsed.slice(0, -2))
        : elapsed.endsWith('s')
          ? Number(elapsed.slice(0, -1)) * 1000
          : NaN;
      expect({ elapsed, withinAnHour: ms >= 0 && ms < 3_600_000 }).toEqual({ elapsed, withinAnHour: true });
    } finally {
      if (runId !== undefined) expect(E.isRight(await cancelRun(runId, { client: tc.client }))).toBe(true);
      await running;
      await skewed.right.close();
    }
  });

  it('refuses an action without the CSRF token, from another origin, or when read-only; a good one is journaled as ui:<user>', async () => {
    const running = runPipeline(pipeline, { hold: true }, { client: tc.client });
    const runId = await waitFor(
      async () => {
        const r = await call(ui.url, 'GET', '/?status=running');
        return /data-run="([^"]+)"/.exec(r.body)?.[1];
      },
      { what: 'the held run on the runs page', everyMs: 50 },
    );
    const page = await call(ui.url, 'GET', `/runs/${runId}`);
    const csrf = csrfOf(page.body);
    expect({ status: page.status, csrf: csrf.length > 20 }).toEqual({ status: 200, csrf: true });
    expect(page.body).toContain(`/runs/${runId}/confirm?action=cancel`);

    expect((await call(ui.url, 'POST', `/runs/${runId}/cancel`, { body: '' })).status).toBe(403);
    expect((await call(ui.url, 'POST', `/runs/${runId}/cancel`, { body: 'csrf=wrong' })).status).toBe(403);
    expect(
      (await call(ui.url, 'POST', `/runs/${runId}/cancel`, { body: `csrf=${csrf}`, headers: { Origin: 'http://evil.example' } }))
        .status,
    ).toBe(403);
    // Read-only: no button, and the POST is refused whatever it carries.
    const ro = await call(readOnly.url, 'GET', `/runs/${runId}`);
    expect(ro.body).not.toContain('confirm?action=');
    expect((await call(readOnly.url, 'POST', `/runs/${runId}/cancel`, { body: `csrf=${csrfOf(ro.body)}` })).status).toBe(403);
    expect((await call(readOnly.url, 'GET', `/runs/${runId}/confirm?action=cancel`)).status).toBe(403);
    // Nothing was cancelled by any of those.
    const before = await readRunEvents(runId, { client: tc.client });
    expect(E.isRight(before) && before.right.some((e) => e.event.type === 'run.cancelled')).toBe(false);

    const ok = await call(ui.url, 'POST', `/runs/${runId}/cancel`, {
      body: `csrf=${csrf}`,
      headers: { Origin: ui.url.replace(/\/$/, '') },
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe(`/runs/${runId}?ok=Cancelled`);
    const ended = await running;
    expect(E.isRight(ended) && ended.right.status).toBe('cancelled');
    const events = await readRunEvents(runId, { client: tc.client });
    const cancelled = E.isRight(events) ? events.right.find((e) => e.event.type === 'run.cancelled') : undefined;
    expect(cancelled?.event).toMatchObject({ payload: { reason: 'cancelled from the dashboard (ui:alice)' } });
    // A second cancel is refused by the library, and says so.
    const again = await call(ui.url, 'POST', `/runs/${runId}/cancel`, { body: `csrf=${csrf}` });
    expect(decodeURIComponent(String(again.headers.location))).toContain('error=Cancel refused');
    expect(E.isLeft(await cancelRun(runId, { client: tc.client }))).toBe(true);
  });

  it('fork and send: refused without the CSRF token or when read-only; a fork answers with the new run, bad JSON with the form and its error', async () => {
    const ran = await runPipeline(pipeline, { customer: 'c-1' }, { client: tc.client });
    if (E.isLeft(ran)) throw new Error(ran.left._tag);
    const runId = ran.right.runId;
    const page = await call(ui.url, 'GET', `/runs/${runId}`);
    const csrf = csrfOf(page.body);
    expect(page.body).toContain(`/runs/${runId}/confirm?action=fork`);
    const ro = await call(readOnly.url, 'GET', `/runs/${runId}`);
    expect(ro.body).not.toContain('confirm?action=');
    for (const action of ['fork', 'send']) {
      const body = action === 'fork' ? 'step=held' : 'event=approved&data=%7B%7D';
      expect((await call(ui.url, 'POST', `/runs/${runId}/${action}`, { body })).status).toBe(403);
      expect((await call(ui.url, 'POST', `/runs/${runId}/${action}`, { body: `csrf=wrong&${body}` })).status).toBe(403);
      expect(
        (await call(readOnly.url, 'POST', `/runs/${runId}/${action}`, { body: `csrf=${csrfOf(ro.body)}&${body}` })).status,
      ).toBe(403);
      expect((await call(readOnly.url, 'GET', `/runs/${runId}/confirm?action=${action}&event=approved`)).status).toBe(403);
    }
    const runsOf = async () => {
      const r = await searchRuns({ client: tc.client, pipelineId: 'ui-flow', limit: 50 });
      return E.isRight(r) ? r.right.runs.map((x) => x.runId) : [];
    };
    const before = (await runsOf()).length;

    const confirm = await call(ui.url, 'GET', `/runs/${runId}/confirm?action=fork&step=held`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('<option value="held" selected>held (success)</option>');
    const forked = await call(ui.url, 'POST', `/runs/${runId}/fork`, { body: `csrf=${csrf}&step=held` });
    expect(forked.status).toBe(303);
    const newId = decodeURIComponent(/^\/runs\/([^?]+)\?ok=/.exec(String(forked.headers.location))?.[1] ?? '');
    expect(newId).not.toBe(runId);
    expect((await runsOf()).length).toBe(before + 1);
    await waitFor(
      async () => {
        const s = await loadRunState(newId, { client: tc.client });
        return E.isRight(s) && s.right.status === 'success' ? true : undefined;
      },
      { what: 'the fork to succeed', everyMs: 50 },
    );
    const events = await readRunEvents(newId, { client: tc.client });
    const types = E.isRight(events)
      ? events.right.map((e) => `${e.event.type}${'stepName' in e.event ? ` ${e.event.stepName}` : ''}`)
      : [];
    expect(types.slice(0, 2)).toEqual(['run.created', 'step.reused first']);
    const created = E.isRight(events) ? events.right[0]?.event : undefined;
    expect(created).toMatchObject({ payload: { triggeredBy: 'ui:alice', forkedFrom: { runId, step: 'held' } } });
    const newPage = await call(ui.url, 'GET', `/runs/${newId}`);
    expect(newPage.body).toContain(`id="forked-from" href="/runs/${runId}"`);

    // Malformed JSON: the form again (400), the text kept and escaped, the reason shown; nothing sent.
    const bad = await call(ui.url, 'POST', `/runs/${runId}/send`, {
      body: `csrf=${csrf}&event=approved&data=${encodeURIComponent('{"a": </textarea>')}`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('id="data-error">The data is not valid JSON: ');
    expect(bad.body).toContain('{&quot;a&quot;: &lt;/textarea&gt;</textarea>');
    // A finished run: the library refuses (as `orbit send` does) and the page says why.
    const late = await call(ui.url, 'POST', `/runs/${runId}/send`, { body: `csrf=${csrf}&event=approved&data=` });
    expect(late.status).toBe(303);
    expect(decodeURIComponent(String(late.headers.location))).toContain(
      `error=Send refused: Event "approved" not delivered to run ${runId}: the run already ended (success)`,
    );
    const after = await readRunEvents(runId, { client: tc.client });
    expect(E.isRight(after) && after.right.some((e) => e.event.type === 'event.received')).toBe(false);
  });

  it('lists an idle worker on the workers page, with its concurrency and pipelines (listWorkers)', async () => {
    const w = await startWorker({ client: tc.client, concurrency: 3 });
    if (E.isLeft(w)) throw new Error(w.left._tag);
    try {
      const page = await call(ui.url, 'GET', '/workers');
      expect(page.status).toBe(200);
      const row = new RegExp(`<tr class="live">[\\s\\S]*?${tc.client.workerId}[\\s\\S]*?</tr>`).exec(page.body)?.[0] ?? '';
      expect(row).toContain('>3<');
      expect(row).toContain(`title="${pipeline.definitionHash}"`);
      expect(row).toContain('idle');
      expect(page.body).toMatch(/\d+ live \(\d+ idle\)/);
    } finally {
      await w.right.stop();
    }
    const after = await call(ui.url, 'GET', '/workers');
    expect(after.body).not.toContain(`${tc.client.workerId} <span class="muted">worker`);
  });

  it('serves the workers, pipelines and recovery pages from the library functions', async () => {
    const workers = await call(ui.url, 'GET', '/workers');
    expect(workers.status).toBe(200);
    expect(workers.body).toContain('Workers');
    const pipelines = await call(ui.url, 'GET', '/pipelines');
    expect(pipelines.status).toBe(200);
    expect(pipelines.body).toContain('data-pipeline="ui-flow"');
    expect(pipelines.body).toContain('>held<');
    const recovery = await call(ui.url, 'GET', '/recovery');
    expect(recovery.status).toBe(200);
    expect((recovery.body.match(/<svg class="chart"/g) ?? []).length).toBe(4);
  });

  it('refuses a runs filter with a status that is none (it showed every run as if filtered)', async () => {
    const bad = await call(ui.url, 'GET', '/?status=bogus');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('Unknown status "bogus": one of running, pending');
    const all = await call(ui.url, 'GET', '/?status=');
    expect(all.status).toBe(200);
    const failed = await call(ui.url, 'GET', '/?status=failed');
    expect(failed.status).toBe(200);
  });

  it("draws a pipeline's graph from dependsOn, and a run with branches one lane per branch", async () => {
    const pipelines = await call(ui.url, 'GET', '/pipelines');
    const card = pipelines.body.slice(pipelines.body.indexOf('data-pipeline="ui-diamond"'));
    expect(card).toMatch(/<svg\s+class="graph"[^>]*data-columns="3"/);
    expect((card.slice(0, card.indexOf('</svg>')).match(/class="edge"/g) ?? []).length).toBe(4);
    // A linear pipeline is one row: as many columns as steps.
    expect(pipelines.body.slice(pipelines.body.indexOf('data-pipeline="ui-flow"'))).toMatch(/data-columns="2"/);
    const ran = await runPipeline(diamond, {}, { client: tc.client });
    if (E.isLeft(ran)) throw new Error(ran.left._tag);
    const page = await call(ui.url, 'GET', `/runs/${ran.right.runId}`);
    expect([...page.body.matchAll(/data-lane="(\d+)"/g)].map((m) => m[1])).toEqual(['1', '2']);
    expect(page.body).toContain('<title>fetch → users → join</title>');
    const linear = await runPipeline(pipeline, {}, { client: tc.client });
    if (E.isLeft(linear)) throw new Error(linear.left._tag);
    expect((await call(ui.url, 'GET', `/runs/${linear.right.runId}`)).body).not.toContain('data-lane=');
  });

  it('answers only to loopback host names (no DNS rebinding)', async () => {
    expect((await call(ui.url, 'GET', '/', { headers: { Host: 'evil.example:4300' } })).status).toBe(421);
    expect((await call(ui.url, 'GET', '/', { headers: { Host: 'localhost:4300' } })).status).toBe(200);
  });

  it('needs the token when one is set: bearer, or ?token= once then a cookie', async () => {
    const token = 'a-long-enough-secret-token';
    const s = await startUiServer({ client: tc.client, port: 0, token, pollMs: 100 });
    if (E.isLeft(s)) throw new Error(s.left._tag);
    try {
      expect((await call(s.right.url, 'GET', '/')).status).toBe(401);
      expect((await call(s.right.url, 'GET', '/assets/app.js')).status).toBe(401);
      expect((await call(s.right.url, 'GET', '/', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await call(s.right.url, 'GET', '/', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      const first = await call(s.right.url, 'GET', `/?token=${token}`);
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe('/');
      const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
      expect(String(first.headers['set-cookie'])).toContain('HttpOnly; SameSite=Strict');
      expect((await call(s.right.url, 'GET', '/', { headers: { Cookie: cookie } })).status).toBe(200);
    } finally {
      await s.right.close();
    }
  });

  it('refuses to bind beyond loopback without a token (library and CLI)', async () => {
    const s = await startUiServer({ client: tc.client, host: '0.0.0.0', port: 0 });
    expect(E.isLeft(s) && s.left._tag).toBe('InvalidInput');
    const cli = spawnSync(process.execPath, [CLI_PATH, 'ui', '--host', '0.0.0.0'], {
      encoding: 'utf8',
      env: { ...process.env, ORBIT_UI_TOKEN: '' },
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr.trim().split('\n')).toEqual([
      expect.stringContaining('--host 0.0.0.0 exposes the dashboard beyond this machine'),
    ]);
  });

  it('a port that is not one: one line that says so once, exit 2', () => {
    for (const port of ['99999', 'abc', '-1']) {
      const cli = spawnSync(process.execPath, [CLI_PATH, 'ui', `--port=${port}`], { encoding: 'utf8' });
      expect(cli.status).toBe(2);
      // Was "Invalid --port: Invalid --port: 99999 (0 to 65535)".
      expect(cli.stderr.trim().split('\n')).toEqual([
        `Error: Invalid --port: ${JSON.stringify(port)} is not a port (use 0 to 65535; 0: any free port)`,
      ]);
    }
  });

  it('feeds any number of browsers from one LISTEN connection', async () => {
    const streams = await Promise.all(
      [1, 2, 3, 4, 5].map(
        () =>
          new Promise<{ close: () => void; got: () => string }>((resolve) => {
            const u = new URL(ui.url);
            let data = '';
            const req = httpRequest({ host: u.hostname, port: u.port, path: '/events' }, (res) => {
              res.setEncoding('utf8');
              res.on('data', (d: string) => (data += d));
              resolve({ close: () => req.destroy(), got: () => data });
            });
            req.on('error', () => undefined);
            req.end();
          }),
      ),
    );
    try {
      expect(ui.liveClients()).toBe(5);
      const listeners = await tc.client.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`,
        [`orbit-ui:${tc.schema}`],
      );
      // Two dashboards in this file (the read-only one too): one connection each, not one per browser.
      expect(listeners.rows[0]?.n).toBe(2);
      const ran = await runPipeline(pipeline, {}, { client: tc.client });
      if (E.isLeft(ran)) throw new Error(ran.left._tag);
      await waitFor(() => streams.every((s) => s.got().includes(ran.right.runId)), {
        what: 'every stream to hear of the new run',
      });
    } finally {
      for (const s of streams) s.close();
    }
  }, 120_000);
});
