import type { SuspendedOn } from '../../api/listRuns';
import { describeWait } from '../../api/loadRunState';

/**
 * The dashboard's HTML: every page is rendered here on the server, from strings that go through
 * `esc` (text and attribute values alike) or are built from fixed markup. `Html` marks a string
 * that is already safe; anything else interpolated with `html` is escaped.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

type Part = Html | string | number | null | undefined | false | readonly Part[];

const render = (p: Part): string => {
  if (p === null || p === undefined || p === false) return '';
  if (p instanceof Html) return p.text;
  if (Array.isArray(p)) return (p as readonly Part[]).map(render).join('');
  return esc(String(p));
};

/** A template tag: interpolated values are escaped unless they are `Html`. */
export const html = (strings: TemplateStringsArray, ...values: readonly Part[]): Html =>
  new Html(strings.reduce((acc, s, i) => acc + s + (i < values.length ? render(values[i]) : ''), ''));

export const raw = (s: string): Html => new Html(s);

/** A URL of the dashboard's own (path + query), values encoded. */
export const href = (path: string, query: Readonly<Record<string, string | undefined>> = {}): string => {
  const q = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return q === '' ? path : `${path}?${q}`;
};

export interface PageFrame {
  readonly title: string;
  /** Which tab of the navigation is current. */
  readonly section: 'runs' | 'workers' | 'pipelines' | 'recovery';
  readonly csrf: string;
  readonly readOnly: boolean;
  /** The schema shown in the header (which database this is). */
  readonly schema: string;
  /** What the live-update script should refresh on a change: a run id, or every run. */
  readonly live: 'all' | { readonly runId: string } | 'none';
  readonly assetVersion: string;
}

const NAV: readonly [PageFrame['section'], string, string][] = [
  ['runs', 'Runs', '/'],
  ['workers', 'Workers', '/workers'],
  ['pipelines', 'Pipelines', '/pipelines'],
  ['recovery', 'Recovery', '/recovery'],
];

/** The whole document: header, navigation, `<main id="main">` (what live updates replace). */
export const page = (f: PageFrame, main: Html): string =>
  html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf" content="${f.csrf}" />
        <title>${f.title} · Orbit</title>
        <link rel="icon" href="/assets/favicon.svg" />
        <link rel="stylesheet" href="/assets/app.css?v=${f.assetVersion}" />
        <script src="/assets/app.js?v=${f.assetVersion}" defer></script>
      </head>
      <body data-live="${f.live === 'all' ? 'all' : f.live === 'none' ? 'none' : `run:${f.live.runId}`}">
        <header class="top">
          <a class="brand" href="/"><span class="logo" aria-hidden="true"></span>Orbit</a>
          <nav>
            ${NAV.map(([s, label, url]) => html`<a href="${url}" ${s === f.section ? raw(' class="current" aria-current="page"') : ''}>${label}</a>`)}
          </nav>
          <span class="meta">schema <b>${f.schema}</b>${f.readOnly ? html` · <span class="badge ro">read-only</span>` : ''}</span>
          <span class="live" id="live" title="Live updates">live</span>
        </header>
        <main id="main">${main}</main>
      </body>
    </html> `.text;

const STATUS_LABEL: Readonly<Record<string, string>> = {
  pending: 'pending',
  running: 'running',
  success: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  retrying: 'retrying',
  interrupted: 'interrupted',
  queued: 'queued',
};

export const badge = (status: string): Html => html`<span class="badge s-${status}">${STATUS_LABEL[status] ?? status}</span>`;

/**
 * A sleeping or waiting run's (or step's) status chip: what it sleeps or waits for, in the words
 * `orbit runs` uses (`sleeping until 2026-12-08 01:00:00Z`, `waiting for "approved" (times out …)`).
 */
export const waitBadge = (status: string, s: SuspendedOn): Html =>
  html`<span class="badge s-${status}" data-wait="${s.kind}" title="${`step ${s.step}`}">${describeWait(s)}</span>`;

/** 1.2s, 3m04s, 2h05m. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
};

/** A time shown as the ISO string (UTC, what the CLI prints), to the second; the title has it all. */
export const time = (iso: string | null): Html =>
  iso === null
    ? html`<span class="muted">—</span>`
    : html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 19).replace('T', ' ')}</time>`;

/** Pretty JSON, escaped. */
export const json = (v: unknown): Html => html`<pre class="json">${JSON.stringify(v, null, 2) ?? 'null'}</pre>`;

/** Hidden CSRF field for a POST form. */
export const csrfField = (token: string): Html => html`<input type="hidden" name="csrf" value="${token}" />`;
