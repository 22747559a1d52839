import {
  type AttemptSpan,
  type MapItems,
  type Timeline,
  type WaitSpan,
  describeItems,
  describePause,
  formatElapsed,
  horizonOf,
  lanesOf,
  offsetOf,
  pausedNow,
  receivedNow,
} from '../api/internal/timeline';
import { describeWait } from '../api/loadRunState';

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
  /** The run's `dependsOn` (from its `run.created`): a run with branches is drawn one lane per branch. */
  readonly dependsOn?: Readonly<Record<string, readonly string[]>> | null;
  /** Map steps' items (`mapItemsOf`): a line under the step's last attempt with their counts and failures. */
  readonly items?: ReadonlyMap<string, MapItems>;
}

/** How long the bar spans: the run, and the rest of the sleeps and waits still on (`horizonOf`). */
const spanOf = (t: Timeline): number => Math.max(t.durationMs, offsetOf(t, horizonOf(t)));

/** Column of a time on a bar of `width` columns spanning the run. */
const col = (t: Timeline, at: string, width: number): number => {
  const span = spanOf(t);
  return span <= 0 ? 0 : Math.min(width - 1, Math.max(0, Math.floor((offsetOf(t, at) / span) * width)));
};

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
 * per crash or release gap, scaled so the whole run fills `width` columns. A run with branches
 * (`dependsOn`) is drawn one lane per branch: a `branch N` row with every attempt of the lane on
 * one bar, then its attempts' rows, indented; a linear run's lines are as they always were.
 */
export const timelineLines = (t: Timeline, o: TimelineTextOptions): string[] => {
  const ch = o.fancy
    ? { run: '█', wait: '·', gap: '░', pause: '~', blank: ' ' }
    : { run: '#', wait: '.', gap: 'x', pause: '~', blank: ' ' };
  const colour = (outcome: AttemptSpan['outcome'], s: string) =>
    outcome === 'success'
      ? o.paint.green(s)
      : outcome === 'failed'
        ? o.paint.red(s)
        : outcome === 'sleeping' || outcome === 'waiting'
          ? o.paint.dim(s)
          : o.paint.yellow(s);
  const lanes = lanesOf(t.steps, o.dependsOn ?? null);
  const branched = lanes.length > 1;
  const indent = branched ? '  ' : '';
  const labels = [...t.attempts.map((a) => `${indent}${a.step} #${a.attempt}`), ...t.waits.map((w) => `(${w.kind})`)];
  const lw = Math.max(12, ...labels.map((l) => l.length));
  const workers = new Set(t.attempts.map((a) => a.worker));
  const silentMs = Date.parse(t.endedAt) - Date.parse(t.lastEventAt);
  const now = pausedNow(t)[0];
  const got = receivedNow(t);
  const end = t.ended
    ? `${t.markers[t.markers.length - 1]?.label ?? 'ended'} after ${formatElapsed(t.durationMs)}`
    : t.suspended && now !== undefined
      ? `${describeWait(now.pause)} in step ${now.step}, ${formatElapsed(t.durationMs)} so far; no worker holds it`
      : got !== undefined
        ? `event ${JSON.stringify(got.pause.event ?? '')} received in step ${got.step}, ${formatElapsed(t.durationMs)} so far; no worker holds it yet, a worker resumes it`
        : `not ended, ${formatElapsed(t.durationMs)} so far${silentMs > 0 ? ` (last event ${formatElapsed(silentMs)} ago)` : ''}`;
  const out: string[] = [
    `Run ${t.runId} (${t.pipelineId}): ${end}; ${t.attempts.length} attempt(s) of ${t.steps.length} step(s)${branched ? ` in ${lanes.length} branches` : ''} by ${workers.size} worker(s)`,
    '',
    `${' '.repeat(lw)}  ${'0'.padEnd(o.width - formatElapsed(spanOf(t)).length)}${formatElapsed(spanOf(t))}`,
  ];
  const lastAttempt = new Map<string, AttemptSpan>();
  for (const a of t.attempts) lastAttempt.set(a.step, a);
  const isLastOf = (a: AttemptSpan): boolean => lastAttempt.get(a.step) === a;
  const rows: { at: string; step: string | null; text: string[] }[] = [];
  for (const a of t.attempts) {
    const to = a.endedAt ?? t.endedAt;
    const retry = retryAfter(t, a);
    // An interrupted attempt's end was never journaled: only its start is drawn; the crash row
    // below shows the time until the resume.
    const p = a.pause;
    const spans = [
      { from: a.startedAt, to: a.outcome === 'interrupted' ? a.startedAt : p !== undefined ? p.from : to, ch: ch.run },
    ];
    if (retry !== undefined) spans.unshift({ from: retry.from, to: retry.to ?? t.endedAt, ch: ch.wait });
    // A sleep is drawn to its end and a wait to its event or timeout, also ahead of now.
    if (p !== undefined) spans.push({ from: p.from, to: p.to ?? p.until ?? t.endedAt, ch: ch.pause });
    const b = bar(t, o.width, spans, ch.blank);
    const detail = [
      `${a.outcome === 'interrupted' ? '≤' : ''}${formatElapsed(Date.parse(to) - Date.parse(a.startedAt))}`.padStart(7),
      a.outcome.padEnd(11),
      a.worker,
      a.error === null ? '' : ` ${a.error}`,
      retry === undefined ? '' : `; retry after ${formatElapsed(Date.parse(retry.to ?? t.endedAt) - Date.parse(retry.from))}`,
      p === undefined ? '' : `; ${describePause(p)}`,
    ];
    const text = [
      `${`${indent}${a.step} #${a.attempt}`.padEnd(lw)} |${colour(a.outcome, b)}| ${detail[0]} ${colour(a.outcome, detail[1] ?? '')} ${o.paint.dim(detail[2] ?? '')}${detail[3]}${detail[4]}${detail[5]}`,
    ];
    const m = o.items?.get(a.step);
    if (m !== undefined && isLastOf(a)) {
      text.push(`${' '.repeat(lw)}   items: ${describeItems(m)}`);
      for (const [i, err] of [...m.failed].slice(0, 5)) text.push(`${' '.repeat(lw)}     item ${i}: ${err}`);
    }
    if (o.results && a.outcome === 'success') text.push(`${' '.repeat(lw)}   result: ${JSON.stringify(a.result)}`);
    rows.push({ at: a.startedAt, step: a.step, text });
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
      step: null,
      text: [
        `${`(${w.kind})`.padEnd(lw)} |${o.paint.yellow(bar(t, o.width, [{ from: w.from, to, ch: ch.gap }], ch.blank))}| ${what}`,
      ],
    });
  }
  rows.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (!branched) {
    for (const r of rows) out.push(...r.text);
    return out;
  }
  for (const lane of lanes) {
    const steps = new Set(lane.steps);
    const mine = t.attempts.filter((a) => steps.has(a.step));
    const b = bar(
      t,
      o.width,
      mine.flatMap((a) => [
        {
          from: a.startedAt,
          to: a.outcome === 'interrupted' ? a.startedAt : a.pause !== undefined ? a.pause.from : (a.endedAt ?? t.endedAt),
          ch: ch.run,
        },
        // The lane's sleeps and waits, as on their steps' rows.
        ...(a.pause !== undefined ? [{ from: a.pause.from, to: a.pause.to ?? a.pause.until ?? t.endedAt, ch: ch.pause }] : []),
      ]),
      ch.blank,
    );
    const ran = lane.steps.filter((s) => mine.some((a) => a.step === s)).length;
    out.push(
      `${`branch ${lane.number}`.padEnd(lw)} |${b}| ${lane.steps.join(' → ')}${ran < lane.steps.length ? o.paint.dim(` (${lane.steps.length - ran} not run)`) : ''}`,
    );
    for (const r of rows) if (r.step !== null && steps.has(r.step)) out.push(...r.text);
  }
  for (const r of rows) if (r.step === null) out.push(...r.text);
  return out;
};
