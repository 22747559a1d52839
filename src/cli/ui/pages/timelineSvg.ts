import {
  describePause,
  horizonOf,
  type AttemptSpan,
  type Lane,
  type PauseSpan,
  type Timeline,
} from '../../../api/internal/timeline';
import { formatDuration, html, raw, type Html } from '../html';
import { labelRows, type BottomLabel } from './labelRows';

const LABEL_W = 200;
const CHART_W = 940;
const ROW_H = 30;
const TOP = 26;
/** A second or third row of labels under the chart, when labels close in time would overlap. */
const LABEL_ROW_H = 14;

const at = (iso: string): number => Date.parse(iso);

/**
 * The run's timeline as SVG: one row per step (its attempts side by side, so retries stay on one
 * line), retry waits dotted, the crash/resume band hatched across every row, resumes and releases
 * as dashed lines, and a "now" line while the run has not ended. Scales with the window (viewBox).
 * A run with branches (more than one lane) has one lane per branch: a `branch N` row with all of
 * its steps' attempts, then its steps' rows, indented.
 */
export const timelineSvg = (t: Timeline, nowIso: string, lanes: readonly Lane[] = []): Html => {
  const start = at(t.startedAt);
  // A run not ended is drawn to now, and on to the end of its sleeps and waits still on.
  const end = t.ended ? at(t.endedAt) : Math.max(at(t.endedAt), at(nowIso), at(horizonOf(t)));
  const span = Math.max(1, end - start);
  const x = (iso: string) => LABEL_W + ((Math.min(at(iso), end) - start) / span) * CHART_W;
  const steps = t.steps.length > 0 ? t.steps : [...new Set(t.attempts.map((a) => a.step))];
  const branched = lanes.length > 1;
  // Rows: a linear run's steps; a branched run's lanes, each followed by its steps.
  const rows: { readonly label: string; readonly step: string | null; readonly lane: Lane | null }[] = branched
    ? lanes.flatMap((l) => [
        { label: `branch ${l.number}`, step: null, lane: l },
        ...l.steps.map((s) => ({ label: s, step: s, lane: null })),
      ])
    : steps.map((s) => ({ label: s, step: s, lane: null }));
  const rowOf = new Map(rows.flatMap((r, i) => (r.step === null ? [] : [[r.step, i] as const])));
  const y = (step: string | null) => TOP + (rowOf.get(step ?? '') ?? 0) * ROW_H;
  const bottom = TOP + rows.length * ROW_H;

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const px = LABEL_W + f * CHART_W;
    const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
    return html`<line class="tick" x1="${px}" x2="${px}" y1="${TOP - 6}" y2="${bottom}" /><text
        class="axis"
        x="${px}"
        y="${TOP - 10}"
        text-anchor="${anchor}"
        >${formatDuration(span * f)}</text
      >`;
  });
  const laneRows = rows.map((r, i) => {
    const indent = branched && r.lane === null ? 20 : 0;
    const max = 26 - indent / 7;
    const label = r.label.length > max ? `${r.label.slice(0, max - 1)}…` : r.label;
    const mine = r.lane === null ? [] : t.attempts.filter((a) => r.lane?.steps.includes(a.step));
    return html`<g class="lane${r.lane !== null ? ' branch' : ''}" ${r.lane !== null ? raw(`data-lane="${r.lane.number}"`) : ''}
      ><rect
        class="${r.lane !== null ? 'lane-branch' : i % 2 === 0 ? 'lane-even' : 'lane-odd'}"
        x="0"
        y="${TOP + i * ROW_H}"
        width="${LABEL_W + CHART_W + 10}"
        height="${ROW_H}"
      /><text class="step-label${r.lane !== null ? ' branch-label' : ''}" x="${8 + indent}" y="${TOP + i * ROW_H + 19}"
        >${label}</text
      >${
        r.lane !== null
          ? html`<title>${r.lane.steps.join(' → ')}</title>${mine.map((a) => {
                const x0 = x(a.startedAt);
                const x1 = a.endedAt === null ? x(nowIso) : x(a.endedAt);
                return html`<rect
                  class="lane-bar o-${a.outcome}"
                  x="${x0.toFixed(1)}"
                  y="${TOP + i * ROW_H + 11}"
                  width="${Math.max(2, x1 - x0).toFixed(1)}"
                  height="8"
                  rx="2"
                />`;
              })}`
          : ''
      }</g
    >`;
  });
  const bands = t.waits
    .filter((w) => w.kind !== 'retry')
    .map((w) => {
      const x0 = x(w.from);
      const x1 = w.to === null ? x(nowIso) : x(w.to);
      return html`<rect
        class="band band-${w.kind}"
        x="${x0.toFixed(1)}"
        y="${TOP}"
        width="${Math.max(2, x1 - x0).toFixed(1)}"
        height="${bottom - TOP}"
        ><title>
          ${w.kind === 'crash' ? `crashed: worker ${w.worker ?? '?'} stopped` : `released by ${w.worker ?? '?'}`}${w.step !== null ? ` during ${w.step}` : ''}
        </title></rect
      >`;
    });
  const retryWaits = t.waits
    .filter((w) => w.kind === 'retry')
    .map((w) => {
      const x0 = x(w.from);
      const x1 = w.to === null ? x(nowIso) : x(w.to);
      return html`<rect
        class="wait"
        x="${x0.toFixed(1)}"
        y="${y(w.step) + 11}"
        width="${Math.max(1, x1 - x0).toFixed(1)}"
        height="8"
        ><title>retry back-off</title></rect
      >`;
    });
  /** A sleep to its end, a wait to its event or timeout (to now without one), labelled as the run's status is. */
  const pause = (a: AttemptSpan & { readonly pause: PauseSpan }) => {
    const p = a.pause;
    const on = p.to === null;
    const x0 = x(p.from);
    const x1 = x(p.to ?? (p.until !== null && at(p.until) > at(nowIso) ? p.until : nowIso));
    const w = Math.max(3, x1 - x0);
    const label = describePause(p);
    return html`<g
      class="pause pause-${p.kind}${on ? ' on' : ''}"
      data-step="${a.step}"
      data-pause="${p.kind}"
      data-end="${p.end ?? 'on'}"
      ><rect x="${x0.toFixed(1)}" y="${y(a.step) + 8}" width="${w.toFixed(1)}" height="14" rx="3" />${
        w > 60
          ? html`<text class="in-pause" x="${(x0 + 5).toFixed(1)}" y="${y(a.step) + 19}"
              >${label.length > w / 6.5 ? `${label.slice(0, Math.max(1, Math.floor(w / 6.5) - 1))}…` : label}</text
            >`
          : ''
      }<title>${`${a.step} · attempt ${a.attempt} · ${label}`}</title></g
    >`;
  };
  const bar = (a: AttemptSpan) => {
    const x0 = x(a.startedAt);
    // A sleep or wait step's bar is its start; its sleep or wait is drawn after it.
    const x1 = a.pause !== undefined ? x(a.pause.from) : a.endedAt === null ? x(nowIso) : x(a.endedAt);
    const w = Math.max(3, x1 - x0);
    const dur = (a.endedAt === null ? at(nowIso) : at(a.endedAt)) - at(a.startedAt);
    const tip = `${a.step} · attempt ${a.attempt} · ${a.outcome} · ${formatDuration(dur)} · worker ${a.worker}${a.error !== null ? `\n${a.error}` : ''}`;
    return html`<g class="attempt o-${a.outcome}" data-step="${a.step}" data-attempt="${a.attempt}"
      ><rect
        x="${x0.toFixed(1)}"
        y="${y(a.step) + 6}"
        width="${w.toFixed(1)}"
        height="18"
        rx="3"
      />${w > 26 ? html`<text class="in-bar" x="${(x0 + 5).toFixed(1)}" y="${y(a.step) + 19}">#${a.attempt}</text>` : ''}<title>
        ${tip}
      </title></g
    >`;
  };
  // Labels under the chart: markers in time order, then "now"; close ones take a second or third row.
  const shown = t.markers.filter(
    (m) => m.kind === 'resumed' || m.kind === 'released' || m.kind === 'claimed' || m.kind === 'event',
  );
  const nowLabel: BottomLabel[] = t.ended ? [] : [{ x: x(nowIso) - 4, text: 'now', anchor: 'end' }];
  const rowsOf = labelRows([...shown.map((m) => ({ x: x(m.at), text: m.kind, anchor: 'middle' as const })), ...nowLabel]);
  const labelY = (row: number | null | undefined) => bottom + 18 + (row ?? 0) * LABEL_ROW_H;
  const extraRows = Math.max(0, ...rowsOf.map((r) => r ?? 0));
  const height = TOP + rows.length * ROW_H + 26 + extraRows * LABEL_ROW_H;
  const markers = shown.map((m, i) => {
    const px = x(m.at).toFixed(1);
    const row = rowsOf[i];
    return html`<g class="marker m-${m.kind}"
      ><line x1="${px}" x2="${px}" y1="${TOP}" y2="${bottom + 4}" />${
        row === null ? '' : html`<text x="${px}" y="${labelY(row)}" text-anchor="middle">${m.kind}</text>`
      }<title>${`seq ${m.seq}: ${m.label}`}</title></g
    >`;
  });
  const nowRow = rowsOf[shown.length];
  const now = t.ended
    ? ''
    : html`<g class="now"
        ><line x1="${x(nowIso).toFixed(1)}" x2="${x(nowIso).toFixed(1)}" y1="${TOP - 6}" y2="${bottom + 4}" />${
          nowRow === null ? '' : html`<text x="${(x(nowIso) - 4).toFixed(1)}" y="${labelY(nowRow)}" text-anchor="end">now</text>`
        }</g
      >`;
  return html`<svg
    class="timeline"
    id="timeline"
    viewBox="0 0 ${raw(String(LABEL_W + CHART_W + 10))} ${raw(String(height))}"
    role="img"
    aria-label="Timeline of run ${t.runId}"
  >
    ${laneRows}${ticks}${bands}${retryWaits}${t.attempts.map(bar)}${t.attempts.flatMap((a) =>
      a.pause !== undefined ? [pause({ ...a, pause: a.pause })] : [],
    )}${markers}${now}
  </svg>`;
};
