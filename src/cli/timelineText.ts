import { type AttemptSpan, type Timeline, type WaitSpan, formatElapsed, offsetOf } from '../api/internal/timeline';

export interface TimelineTextOptions {
  /** Columns of the bar. */
  readonly width: number;
  /** Block characters and colours (a terminal) or plain ASCII (piped). */
  readonly fancy: boolean;
  readonly paint: {
    green: (s: string) => string;
    red: (s: string) => string;
    yellow: (s: string) => string;
    dim: (s: string) => string;
  };
  /** Print each succeeded attempt's result under its row. */
  readonly results: boolean;
}

/** Column of a time on a bar of `width` columns spanning the run. */
const col = (t: Timeline, at: string, width: number): number =>
  t.durationMs <= 0 ? 0 : Math.min(width - 1, Math.max(0, Math.floor((offsetOf(t, at) / t.durationMs) * width)));

/** A bar with `ch` from `from` to `to` (at least one column), blanks elsewhere. */
const bar = (t: Timeline, width: number, spans: readonly { from: string; to: string; ch: string }[], blank: string): string => {
  const cells = Array.from({ length: width }, () => blank);
  for (const s of spans) {
    const a = col(t, s.from, width);
    const b = Math.max(a, col(t, s.to, width));
    for (let i = a; i <= b; i++) cells[i] = s.ch;
  }
  return cells.join('');
};

const retryAfter = (t: Timeline, a: AttemptSpan): WaitSpan | undefined =>
  t.waits.find((w) => w.kind === 'retry' && w.step === a.step && a.endedAt !== null && w.from === a.endedAt);

/**
 * The run as rows on a time axis: one row per attempt (its bar, then its retry back-off), one row
 * per crash or release gap, scaled so the whole run fills `width` columns.
 */
export const timelineLines = (t: Timeline, o: TimelineTextOptions): string[] => {
  const ch = o.fancy ? { run: '█', wait: '·', gap: '░', blank: ' ' } : { run: '#', wait: '.', gap: 'x', blank: ' ' };
  const colour = (outcome: AttemptSpan['outcome'], s: string) =>
    outcome === 'success' ? o.paint.green(s) : outcome === 'failed' ? o.paint.red(s) : o.paint.yellow(s);
  const labels = [...t.attempts.map((a) => `${a.step} #${a.attempt}`), ...t.waits.map((w) => `(${w.kind})`)];
  const lw = Math.max(12, ...labels.map((l) => l.length));
  const workers = new Set(t.attempts.map((a) => a.worker));
  const end = t.ended ? (t.markers[t.markers.length - 1]?.label ?? 'ended') : 'not ended';
  const out: string[] = [
    `Run ${t.runId} (${t.pipelineId}): ${end} after ${formatElapsed(t.durationMs)}; ${t.attempts.length} attempt(s) of ${t.steps.length} step(s) by ${workers.size} worker(s)`,
    '',
    `${' '.repeat(lw)}  ${'0'.padEnd(o.width - formatElapsed(t.durationMs).length)}${formatElapsed(t.durationMs)}`,
  ];
  const rows: { at: string; text: string[] }[] = [];
  for (const a of t.attempts) {
    const to = a.endedAt ?? t.endedAt;
    const retry = retryAfter(t, a);
    // An interrupted attempt's end was never journaled: only its start is drawn; the crash row
    // below shows the time until the resume.
    const spans = [{ from: a.startedAt, to: a.outcome === 'interrupted' ? a.startedAt : to, ch: ch.run }];
    if (retry !== undefined) spans.unshift({ from: retry.from, to: retry.to ?? t.endedAt, ch: ch.wait });
    const b = bar(t, o.width, spans, ch.blank);
    const detail = [
      `${a.outcome === 'interrupted' ? '≤' : ''}${formatElapsed(Date.parse(to) - Date.parse(a.startedAt))}`.padStart(7),
      a.outcome.padEnd(11),
      a.worker,
      a.error === null ? '' : ` ${a.error}`,
      retry === undefined ? '' : `; retry after ${formatElapsed(Date.parse(retry.to ?? t.endedAt) - Date.parse(retry.from))}`,
    ];
    const text = [
      `${`${a.step} #${a.attempt}`.padEnd(lw)} |${colour(a.outcome, b)}| ${detail[0]} ${colour(a.outcome, detail[1] ?? '')} ${o.paint.dim(detail[2] ?? '')}${detail[3]}${detail[4]}`,
    ];
    if (o.results && a.outcome === 'success') text.push(`${' '.repeat(lw)}   result: ${JSON.stringify(a.result)}`);
    rows.push({ at: a.startedAt, text });
  }
  for (const w of t.waits) {
    if (w.kind === 'retry') continue;
    const to = w.to ?? t.endedAt;
    const what =
      w.kind === 'crash'
        ? `worker ${w.worker ?? '?'} stopped without releasing the run${w.step === null ? '' : ` during ${w.step}`}; resumed ${formatElapsed(Date.parse(to) - Date.parse(w.from))} later`
        : `released by ${w.worker ?? '?'}${w.to === null ? '; not resumed yet' : `; resumed ${formatElapsed(Date.parse(to) - Date.parse(w.from))} later`}`;
    rows.push({
      at: w.from,
      text: [
        `${`(${w.kind})`.padEnd(lw)} |${o.paint.yellow(bar(t, o.width, [{ from: w.from, to, ch: ch.gap }], ch.blank))}| ${what}`,
      ],
    });
  }
  rows.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const r of rows) out.push(...r.text);
  return out;
};
