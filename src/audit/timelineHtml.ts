import type { RecordedEvent } from '../events/runEvents';
import { formatDuration, offsetOf, type AttemptSpan, type Timeline } from './timeline';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const LABEL_W = 190;
const CHART_W = 760;
const ROW_H = 26;
const TOP = 34;

const COLOURS: Record<AttemptSpan['outcome'], string> = {
  success: '#2e9d4f',
  failed: '#d64541',
  interrupted: '#e39b1b',
  running: '#3f7fd6',
};

/** Everything in one file: inline CSS and SVG, no script, and a policy that forbids any fetch. */
const page = (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d1d1f; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.summary { color: #555; margin: 0 0 16px; }
.legend span { display: inline-block; margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
svg text { font: 12px system-ui, sans-serif; } svg .label { font-weight: 600; } svg .axis { fill: #777; } svg .worker { fill: #333; } svg .inside { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
table { border-collapse: collapse; font-size: 12px; } th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.payload { font-family: ui-monospace, monospace; max-width: 520px; word-break: break-all; }
tr.failed td { background: #fdecea; } tr.resumed td, tr.released td { background: #fff4e0; }
</style>
</head>
<body>
${body}
</body>
</html>
`;

/** Rough width of a label in px (12px system-ui). */
const textWidth = (s: string): number => s.length * 6.6;

/**
 * Where a bar's label goes: after the bar when it fits, else before it, else inside it (with a
 * white halo so it stays readable over a hatched gap).
 */
const placeText = (text: string, barStart: number, barEnd: number): string => {
  const need = textWidth(text) + 8;
  if (barEnd + need <= LABEL_W + CHART_W + 10) return `class="worker" x="${(barEnd + 6).toFixed(1)}"`;
  if (barStart - need >= LABEL_W) return `class="worker" x="${(barStart - 6).toFixed(1)}" text-anchor="end"`;
  return `class="worker inside" x="${(barStart + 6).toFixed(1)}"`;
};

const detailOf = (r: RecordedEvent): string => JSON.stringify(r.event.payload);

/**
 * One self-contained HTML page for a run: its timeline (steps, attempts, retries and their waits,
 * the crash and the resume, the worker of each attempt) drawn as inline SVG, then every event in
 * a table. No script and no external resource, so it opens anywhere, offline, and is safe to mail.
 */
export const renderTimelineHtml = (t: Timeline, events: readonly RecordedEvent[]): string => {
  const x = (at: string): number =>
    LABEL_W + (t.durationMs <= 0 ? 0 : Math.max(0, Math.min(1, offsetOf(t, at) / t.durationMs)) * CHART_W);
  const w = (from: string, to: string): number => Math.max(3, x(to) - x(from));
  const rows: { at: string; svg: string }[] = [];

  for (const a of t.attempts) {
    const to = a.endedAt ?? t.endedAt;
    const retry = t.waits.find((v) => v.kind === 'retry' && v.step === a.step && v.from === a.endedAt);
    // An interrupted attempt's end was never journaled: it lasted at most until the resume.
    const dur = `${a.outcome === 'interrupted' ? 'at most ' : ''}${formatDuration(Date.parse(to) - Date.parse(a.startedAt))}`;
    const tip = `${a.step} attempt ${a.attempt}: ${a.outcome} after ${dur} on ${a.worker}${a.error === null ? '' : ` (${a.error})`}`;
    let svg = `<g class="attempt" data-step="${esc(a.step)}" data-attempt="${a.attempt}" data-outcome="${a.outcome}" data-worker="${esc(a.worker)}">`;
    svg += `<text class="label" x="4" y="{Y}">${esc(`${a.step} #${a.attempt}`)}</text>`;
    svg += `<rect x="${x(a.startedAt).toFixed(1)}" y="{R}" width="${w(a.startedAt, to).toFixed(1)}" height="16" rx="2" fill="${COLOURS[a.outcome]}"${a.outcome === 'interrupted' ? ' fill-opacity="0.45"' : ''}><title>${esc(tip)}</title></rect>`;
    let textX = x(a.startedAt) + w(a.startedAt, to) + 6;
    if (retry !== undefined) {
      const rto = retry.to ?? t.endedAt;
      svg += `<rect class="wait" data-kind="retry" x="${x(retry.from).toFixed(1)}" y="{R}" width="${w(retry.from, rto).toFixed(1)}" height="16" fill="url(#wait)" stroke="#999" stroke-width="0.5"><title>${esc(`retry back-off: ${formatDuration(Date.parse(rto) - Date.parse(retry.from))}`)}</title></rect>`;
      textX = x(retry.from) + w(retry.from, rto) + 6;
    }
    const note = `${a.outcome} · ${dur} · ${a.worker}${retry === undefined ? '' : ' · retried'}`;
    svg += `<text ${placeText(note, x(a.startedAt), textX - 6)} y="{Y}">${esc(note)}</text></g>`;
    rows.push({ at: a.startedAt, svg });
  }
  for (const v of t.waits) {
    if (v.kind === 'retry') continue;
    const to = v.to ?? t.endedAt;
    const what =
      v.kind === 'crash'
        ? `crash: worker ${v.worker ?? '?'} stopped${v.step === null ? '' : ` during ${v.step}`}`
        : `released by ${v.worker ?? '?'}`;
    const note = `${what}; ${v.to === null ? 'not resumed' : `resumed after ${formatDuration(Date.parse(to) - Date.parse(v.from))}`}`;
    rows.push({
      at: v.from,
      svg:
        `<g class="gap" data-kind="${v.kind}" data-worker="${esc(v.worker ?? '')}"><text class="label" x="4" y="{Y}" fill="#b03a2e">(${v.kind})</text>` +
        `<rect x="${x(v.from).toFixed(1)}" y="{R}" width="${w(v.from, to).toFixed(1)}" height="16" fill="url(#crash)" stroke="#b03a2e" stroke-width="0.8"><title>${esc(note)}</title></rect>` +
        `<text ${placeText(note, x(v.from), x(v.from) + w(v.from, to))} y="{Y}">${esc(note)}</text></g>`,
    });
  }
  rows.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const height = TOP + rows.length * ROW_H + 40;
  const body = rows
    .map((r, i) => r.svg.replace(/\{Y\}/g, String(TOP + i * ROW_H + 13)).replace(/\{R\}/g, String(TOP + i * ROW_H + 1)))
    .join('\n');

  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const px = LABEL_W + f * CHART_W;
      const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
      return `<line x1="${px}" x2="${px}" y1="20" y2="${height - 30}" stroke="#eee"/><text class="axis" x="${px}" y="14" text-anchor="${anchor}">${formatDuration(t.durationMs * f)}</text>`;
    })
    .join('');
  const markers = t.markers
    .filter((m) => m.kind !== 'created')
    .map((m) => {
      const px = x(m.at).toFixed(1);
      const colour =
        m.kind === 'resumed' || m.kind === 'released'
          ? '#e39b1b'
          : m.kind === 'failed' || m.kind === 'cancelled'
            ? '#d64541'
            : '#888';
      return `<g class="marker" data-kind="${m.kind}" data-worker="${esc(m.worker)}"><line x1="${px}" x2="${px}" y1="22" y2="${height - 30}" stroke="${colour}" stroke-dasharray="4 3"/><text x="${px}" y="${height - 14}" text-anchor="${Number(px) > LABEL_W + CHART_W - 40 ? 'end' : 'middle'}" fill="${colour}">${esc(m.kind)}</text><title>${esc(`seq ${m.seq}: ${m.label}`)}</title></g>`;
    })
    .join('\n');

  const svg = `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${LABEL_W + CHART_W + 20}" height="${height}" role="img" aria-label="Timeline of run ${esc(t.runId)}">
<defs>
<pattern id="wait" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#f3f3f3"/><circle cx="3" cy="3" r="1" fill="#999"/></pattern>
<pattern id="crash" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fbe3e1"/><rect width="1.5" height="6" fill="#e8a19e"/></pattern>
</defs>
${ticks}
${body}
${markers}
</svg>`;

  const workers = [...new Set(t.attempts.map((a) => a.worker))];
  const end = t.ended ? (t.markers[t.markers.length - 1]?.label ?? 'ended') : 'not ended';
  const table = events
    .map((r) => {
      const e = r.event;
      const cls = e.type.split('.')[1] ?? '';
      return `<tr class="${esc(cls)}" data-seq="${r.seq}"><td>${r.seq}</td><td>${esc(r.occurredAt)}</td><td>+${esc(formatDuration(offsetOf(t, r.occurredAt)))}</td><td>${esc(e.type)}</td><td>${'stepName' in e ? esc(e.stepName) : ''}</td><td>${'attempt' in e ? e.attempt : ''}</td><td>${esc(r.writer)}</td><td class="payload">${esc(detailOf(r))}</td></tr>`;
    })
    .join('\n');

  return page(
    `Run ${t.runId}`,
    `<h1>Run ${esc(t.runId)}</h1>
<p class="summary" id="summary">Pipeline <b>${esc(t.pipelineId)}</b> · ${esc(end)} · ${esc(formatDuration(t.durationMs))} · ${t.attempts.length} attempts of ${t.steps.length} steps · workers: ${workers.map(esc).join(', ')} · started ${esc(t.startedAt)}</p>
<p class="legend"><span><i style="background:${COLOURS.success}"></i>succeeded</span><span><i style="background:${COLOURS.failed}"></i>failed</span><span><i style="background:${COLOURS.interrupted}"></i>interrupted</span><span><i style="background:${COLOURS.running}"></i>running</span><span><i style="background:#f3f3f3;border:1px solid #999"></i>retry wait</span><span><i style="background:#fbe3e1;border:1px solid #d64541"></i>crash → resume</span></p>
${svg}
<h2>Events</h2>
<table id="events"><thead><tr><th>seq</th><th>time</th><th>offset</th><th>type</th><th>step</th><th>attempt</th><th>writer</th><th>payload</th></tr></thead>
<tbody>
${table}
</tbody></table>`,
  );
};
