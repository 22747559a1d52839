import type { RunCounts } from '../../../api/countRuns';
import type { RunPage, RunPageEntry } from '../../../api/searchRuns';
import type { RunStatus } from '../../../api/loadRunState';
import { badge, formatDuration, href, html, time, waitBadge, type Html } from '../html';

export const STATUSES: readonly RunStatus[] = ['running', 'pending', 'sleeping', 'waiting', 'failed', 'cancelled', 'success'];

export interface RunsQuery {
  readonly status?: RunStatus;
  readonly pipelineId?: string;
  readonly search?: string;
  readonly after?: string;
}

const metadataPreview = (m: unknown): string => {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return JSON.stringify(m) ?? '';
  const parts = Object.entries(m as Record<string, unknown>)
    .slice(0, 3)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const s = parts.join(' ');
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
};

const row = (r: RunPageEntry, nowMs: number): Html => {
  const start = Date.parse(r.startedAt);
  const duration =
    r.finishedAt !== null
      ? html`${formatDuration(Date.parse(r.finishedAt) - start)}`
      : html`<span class="elapsed" data-since="${r.startedAt}">${formatDuration(nowMs - start)}</span>`;
  const pct = r.stepsTotal === 0 ? 0 : Math.round((100 * r.stepsSucceeded) / r.stepsTotal);
  return html`<tr class="run s-${r.status}" data-run="${r.runId}">
    <td><a class="mono" href="${`/runs/${encodeURIComponent(r.runId)}`}">${r.runId}</a></td>
    <td>${r.pipelineId}</td>
    <td>
      ${r.suspended !== undefined ? waitBadge(r.status, r.suspended) : badge(r.status)}${r.recoveryCount > 0 ? html` <span class="chip" title="resumed ${r.recoveryCount} time(s)">↻ ${r.recoveryCount}</span>` : ''}
    </td>
    <td>
      <span class="progress" title="${`${r.stepsSucceeded} of ${r.stepsTotal} steps succeeded`}"
        ><meter min="0" max="100" value="${pct}"></meter> ${r.stepsSucceeded}/${r.stepsTotal}</span
      >
    </td>
    <td>${time(r.startedAt)}</td>
    <td class="num">${duration}</td>
    <td class="meta-cell">
      <span class="mono small">${metadataPreview(r.metadata)}</span
      >${r.error !== null ? html`<div class="err-line">${r.error}</div>` : ''}
    </td>
  </tr>`;
};

/** The runs page's main area: counts, filters, the table and the next-page link. */
export const runsMain = (q: RunsQuery, counts: RunCounts, page: RunPage, pipelines: readonly string[], nowMs: number): Html => {
  const total = STATUSES.reduce((n, s) => n + counts.counts[s], 0);
  const capped = (s: RunStatus) => counts.capped.includes(s);
  const count = (s: RunStatus) => (capped(s) ? `${counts.cap.toLocaleString('en')}+` : counts.counts[s].toLocaleString('en'));
  const chip = (s: RunStatus | undefined, label: string, n: string) =>
    html`<a
      class="count${s === undefined ? '' : ` s-${s}`}${q.status === s ? ' current' : ''}"
      href="${href('/', { status: s, pipeline: q.pipelineId, q: q.search })}"
      ><b>${n}</b><span>${label}</span></a
    >`;
  return html`<h1>Runs</h1>
    <section class="counts" id="counts" aria-label="Runs per status">
      ${chip(undefined, 'all', counts.capped.length > 0 ? `${total.toLocaleString('en')}+` : total.toLocaleString('en'))}
      ${STATUSES.map((s) => chip(s, s === 'success' ? 'succeeded' : s, count(s)))}
    </section>
    <form class="filters" method="get" action="/" role="search">
      <label
        >Status
        <select name="status">
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value="${s}" ${q.status === s ? html` selected` : ''}>${s}</option>`)}
        </select></label
      >
      <label
        >Pipeline <input name="pipeline" list="pipelines" value="${q.pipelineId ?? ''}" placeholder="any" autocomplete="off"
      /></label>
      <datalist id="pipelines">${pipelines.map((p) => html`<option value="${p}"></option>`)}</datalist>
      <label class="grow"
        >Search <input type="search" name="q" value="${q.search ?? ''}" placeholder="run id, metadata value or key=value"
      /></label>
      <button type="submit">Apply</button
      >${q.status !== undefined || q.pipelineId !== undefined || q.search !== undefined ? html` <a class="clear" href="/">clear</a>` : ''}
    </form>
    ${
      page.runs.length === 0
        ? html`<p class="empty">No runs match.</p>`
        : html`<table class="runs" id="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Pipeline</th>
                <th>Status</th>
                <th>Steps</th>
                <th>Started (UTC)</th>
                <th class="num">Duration</th>
                <th>Metadata</th>
              </tr>
            </thead>
            <tbody>
              ${page.runs.map((r) => row(r, nowMs))}
            </tbody>
          </table>`
    }
    <nav class="pager">
      ${q.after !== undefined ? html`<a href="${href('/', { status: q.status, pipeline: q.pipelineId, q: q.search })}">« Newest</a>` : ''}${
        page.next !== null
          ? html`<a id="older" href="${href('/', { status: q.status, pipeline: q.pipelineId, q: q.search, after: page.next })}"
              >Older »</a
            >`
          : ''
      }
    </nav>`;
};
