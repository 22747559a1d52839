import { html, type Html } from '../html';

export interface ChartPoint {
  readonly label: string;
  /** null: no data in this bucket (drawn as a gap, not as zero). */
  readonly value: number | null;
}

const W = 600;
const H = 180;
const LEFT = 44;
const BOTTOM = 22;

/**
 * A bar chart as inline SVG (classes only: the CSP allows no inline style), drawn on the server.
 * `format` writes the axis and the tooltips; the y axis starts at 0 and ends at the largest value.
 */
export const barChart = (
  title: string,
  points: readonly ChartPoint[],
  format: (v: number) => string,
  tone: 'normal' | 'bad' = 'normal',
): Html => {
  const max = Math.max(0, ...points.map((p) => p.value ?? 0));
  const top = max === 0 ? 1 : max;
  const slot = (W - LEFT - 8) / Math.max(1, points.length);
  const y = (v: number) => H - BOTTOM - (v / top) * (H - BOTTOM - 12);
  const bars = points.map((p, i) => {
    if (p.value === null) return html``;
    const x = LEFT + i * slot + slot * 0.15;
    const h = H - BOTTOM - y(p.value);
    return html`<rect
      class="bar${tone === 'bad' ? ' bad' : ''}"
      x="${x.toFixed(1)}"
      y="${y(p.value).toFixed(1)}"
      width="${(slot * 0.7).toFixed(1)}"
      height="${Math.max(p.value > 0 ? 1 : 0, h).toFixed(1)}"
      ><title>${`${p.label}: ${format(p.value)}`}</title></rect
    >`;
  });
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  const labels = points.map((p, i) =>
    i % labelEvery === 0
      ? html`<text x="${(LEFT + i * slot + slot / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle">${p.label}</text>`
      : html``,
  );
  return html`<figure class="card chart-card">
    <h3>${title}</h3>
    <svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}">
      <line class="grid" x1="${LEFT}" x2="${W - 4}" y1="${y(top)}" y2="${y(top)}" />
      <line class="grid" x1="${LEFT}" x2="${W - 4}" y1="${y(top / 2)}" y2="${y(top / 2)}" />
      <line class="grid" x1="${LEFT}" x2="${W - 4}" y1="${H - BOTTOM}" y2="${H - BOTTOM}" />
      <text x="${LEFT - 6}" y="${y(top) + 4}" text-anchor="end">${max === 0 ? '' : format(top)}</text>
      <text x="${LEFT - 6}" y="${H - BOTTOM + 4}" text-anchor="end">0</text>
      ${bars}${labels}
    </svg>
  </figure>`;
};
