import type { AttemptSpan, Timeline } from '../../../api/internal/timeline';
import { formatDuration, html, raw, type Html } from '../html';

const LABEL_W = 200;
const CHART_W = 940;
const ROW_H = 30;
const TOP = 26;

const at = (iso: string): number => Date.parse(iso);

/**
 * The run's timeline as SVG: one row per step (its attempts side by side, so retries stay on one
 * line), retry waits dotted, the crash/resume band hatched across every row, resumes and releases
 * as dashed lines, and a "now" line while the run has not ended. Scales with the window (viewBox).
 */
export const timelineSvg = (t: Timeline, nowIso: string): Html => {
  const start = at(t.startedAt);
  const end = t.ended ? at(t.endedAt) : Math.max(at(t.endedAt), at(nowIso));
  const span = Math.max(1, end - start);
  const x = (iso: string) => LABEL_W + ((Math.min(at(iso), end) - start) / span) * CHART_W;
  const steps = t.steps.length > 0 ? t.steps : [...new Set(t.attempts.map((a) => a.step))];
  const rowOf = new Map(steps.map((s, i) => [s, i]));
  const height = TOP + steps.length * ROW_H + 26;
  const y = (step: string | null) => TOP + (rowOf.get(step ?? '') ?? 0) * ROW_H;
  const bottom = TOP + steps.length * ROW_H;

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
  const lanes = steps.map(
    (s, i) =>
      html`<g class="lane"
        ><rect
          class="${i % 2 === 0 ? 'lane-even' : 'lane-odd'}"
          x="0"
          y="${TOP + i * ROW_H}"
          width="${LABEL_W + CHART_W + 10}"
          height="${ROW_H}"
        /><text class="step-label" x="8" y="${TOP + i * ROW_H + 19}">${s.length > 26 ? `${s.slice(0, 25)}…` : s}</text></g
      >`,
  );
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
  const bar = (a: AttemptSpan) => {
    const x0 = x(a.startedAt);
    const x1 = a.endedAt === null ? x(nowIso) : x(a.endedAt);
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
  const markers = t.markers
    .filter((m) => m.kind === 'resumed' || m.kind === 'released' || m.kind === 'claimed')
    .map((m) => {
      const px = x(m.at).toFixed(1);
      return html`<g class="marker m-${m.kind}"
        ><line x1="${px}" x2="${px}" y1="${TOP}" y2="${bottom + 4}" /><text x="${px}" y="${bottom + 18}" text-anchor="middle"
          >${m.kind}</text
        ><title>${`seq ${m.seq}: ${m.label}`}</title></g
      >`;
    });
  const now = t.ended
    ? ''
    : html`<g class="now"
        ><line x1="${x(nowIso).toFixed(1)}" x2="${x(nowIso).toFixed(1)}" y1="${TOP - 6}" y2="${bottom + 4}" /><text
          x="${(x(nowIso) - 4).toFixed(1)}"
          y="${bottom + 18}"
          text-anchor="end"
          >now</text
        ></g
      >`;
  return html`<svg
    class="timeline"
    id="timeline"
    viewBox="0 0 ${raw(String(LABEL_W + CHART_W + 10))} ${raw(String(height))}"
    role="img"
    aria-label="Timeline of run ${t.runId}"
  >
    ${lanes}${ticks}${bands}${retryWaits}${t.attempts.map(bar)}${markers}${now}
  </svg>`;
};
