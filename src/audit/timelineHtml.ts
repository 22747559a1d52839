import type { RecordedEvent, StepError } from '../events/runEvents';
import type { RunVerification } from './runVerification';
import { describeWait } from '../fold/runWait';
import {
  describePause,
  formatDuration,
  horizonOf,
  offsetOf,
  pausedNow,
  receivedNow,
  type AttemptSpan,
  type PauseSpan,
  type Timeline,
  type WaitSpan,
} from './timeline';
import { describeItems, mapItemsOf } from './timelineItems';
import { dependsOnOf, lanesOf } from './timelineLanes';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** What the page says of an unfinished run: the liveness rule's verdict (database clock). */
export interface TimelineLiveness {
  readonly verdict: string;
  readonly interrupted: boolean;
  readonly owner: string | null;
  readonly leaseUntil: string | null;
}

export interface TimelinePage {
  readonly timeline: Timeline;
  /** The run's events in seq order (the table shows all of them up to EVENT_ROWS, else both ends). */
  readonly events: readonly RecordedEvent[];
  /** The database clock's now: an unfinished run is drawn up to it. */
  readonly nowIso: string;
  /** The chain's state and head; null when it was not checked. */
  readonly verification: RunVerification | null;
  /** For an unfinished run: running, or interrupted (and why); null when ended or unknown. */
  readonly liveness: TimelineLiveness | null;
}

/** Events listed in full up to this many; a longer journal shows its first and last halves of it. */
export const EVENT_ROWS = 600;
/** Consecutive steps that simply succeeded at their first attempt, beyond this many, are one row. */
const PLAIN_RUN = 24;
const PLAIN_KEEP = 8;
/** A step's distinct error messages listed (with their counts). */
const MESSAGES = 5;
const PAYLOAD_CHARS = 300;

const OUTCOME_CLASS: Record<AttemptSpan['outcome'], string> = {
  success: 'ok',
  failed: 'ko',
  interrupted: 'int',
  running: 'run',
  sleeping: 'run',
  waiting: 'run',
};

/** Everything in one file: inline CSS, no script, and a policy that forbids any fetch. */
const page = (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f}
h1{font-size:20px;margin:0 0 4px;word-break:break-all}h2{font-size:16px;margin:28px 0 8px}
.summary{color:#555;margin:0 0 12px}
.state{padding:8px 12px;border-radius:6px;margin:0 0 12px}.state.int{background:#fff4e0;border:1px solid #e39b1b}.state.run{background:#e8f0fb;border:1px solid #3f7fd6}
.chain{padding:8px 12px;border-radius:6px;margin:0 0 16px;overflow-wrap:anywhere}.chain.ok{background:#eaf6ee;border:1px solid #2e9d4f}.chain.bad{background:#fdecea;border:1px solid #d64541}.chain.none{background:#f4f4f4;border:1px solid #ccc}
code,.mono{font-family:ui-monospace,monospace;font-size:12px}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
#timeline{position:relative;font-size:12px}
.row{display:grid;grid-template-columns:190px minmax(0,1fr) 340px;align-items:center;min-height:24px}
.row:nth-child(even){background:#fafafa}
.lbl{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:0 8px 0 4px}
.lane{border-top:1px solid #ccc;background:#f0f3f8!important}.lane .lbl{color:#345}.sub .lbl{padding-left:18px}
.trk{position:relative;height:16px}
.note{padding:2px 0 2px 8px;overflow-wrap:anywhere;color:#333}
.trk i{position:absolute;top:0;height:16px;min-width:2px;border-radius:2px}
.ok{background:#2e9d4f}.ko{background:#d64541}.int{background:#e39b1b;opacity:.6}.run{background:#3f7fd6}
.int.open{background:repeating-linear-gradient(45deg,#e39b1b 0 4px,#f8ddb0 4px 8px);opacity:1}
.run.open{background:repeating-linear-gradient(90deg,#3f7fd6 0 6px,#a9c5ee 6px 8px)}
.trk i.w{background:repeating-linear-gradient(90deg,#999 0 1px,#f3f3f3 1px 4px);height:8px;top:4px}
.trk i.lanebar{height:8px;top:4px;opacity:.8}
.trk i.pause{height:14px;top:1px;overflow:hidden;white-space:nowrap;font:11px/12px system-ui,sans-serif;font-style:normal;color:#fff;padding-left:3px;box-sizing:border-box}
.trk i.sleep{background:#7a68b8}.trk i.wait{background:#1f8a8a}.trk i.pause.on{color:#222;border:1px dashed}
.trk i.pause.sleep.on{background:#ebe7f6;border-color:#7a68b8}.trk i.pause.wait.on{background:#ddf0f0;border-color:#1f8a8a}.trk i.pause-elapsed{height:3px;top:12px}
.state.pause{background:#f1eefa;border:1px solid #7a68b8}
.trk i.never{background:none;border:1px dashed #aaa;height:12px;top:1px;width:40px;min-width:0}
.gap .lbl{color:#b03a2e}.gap .trk i{background:repeating-linear-gradient(45deg,#fbe3e1 0 4px,#e8a19e 4px 6px);border:1px solid #b03a2e}
.errnote{color:#b03a2e}.muted{color:#777}
.axis{display:grid;grid-template-columns:190px minmax(0,1fr) 340px;color:#777;height:18px}.axis .trk{height:18px}.axis .trk span{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}
.axis .trk span.first{transform:none}.axis .trk span.last{transform:translateX(-100%)}
.overlay{position:absolute;left:190px;right:340px;top:0;bottom:0;pointer-events:none}
.overlay b{position:absolute;top:18px;bottom:0;border-left:1px dashed #888}.overlay b.m-resumed,.overlay b.m-released{border-color:#e39b1b}.overlay b.m-failed,.overlay b.m-cancelled{border-color:#d64541}.overlay b.m-now{border-left:2px solid #3f7fd6}.overlay b.m-suspended{border-color:#7a68b8}.overlay b.m-event{border-color:#1f8a8a}
.overlay b span{position:absolute;bottom:-16px;left:2px;font-weight:400;font-size:11px;color:#777;white-space:nowrap}
.overlay s{position:absolute;top:18px;bottom:0;background:rgba(214,69,65,.08);text-decoration:none}
@media (max-width:800px){.row,.axis{grid-template-columns:120px minmax(0,1fr)}.note{grid-column:1/-1;padding-left:18px}.overlay{left:120px;right:0}}
table{border-collapse:collapse;font-size:12px;width:100%}th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.payload{font-family:ui-monospace,monospace;overflow-wrap:anywhere}#events td:nth-child(2){white-space:nowrap}
tr.failed td{background:#fdecea}tr.resumed td,tr.released td{background:#fff4e0}
.err{margin:2px 0}.err pre,.frames{margin:2px 0;font-size:11px;white-space:pre-wrap;color:#555}
details summary{cursor:pointer;color:#345}
.skipped td{text-align:center;color:#777;background:#f4f4f4}
</style>
</head>
<body>
${body}
</body>
</html>
`;

const dur = (from: string, to: string): string => formatDuration(Date.parse(to) - Date.parse(from));

const firstFrames = (stack: string, n: number): string =>
  stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, n)
    .map((l) => l.trim())
    .join('\n');

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

interface StepErrors {
  count: number;
  readonly messages: Map<string, { count: number; first: number; last: number }>;
  last: { attempt: number; error: StepError } | null;
}

/** A row of bars: attempts merged when they would be drawn on top of each other (thousands of retries). */
interface Bar {
  readonly outcome: AttemptSpan['outcome'];
  readonly from: string;
  to: string;
  first: number;
  last: number;
  count: number;
  readonly workers: Set<string>;
  open: boolean;
}

/**
 * One self-contained HTML page for a run: its state (running, ended, or interrupted and why), the
 * journal's verification (chain state and last hash), the timeline (one row per step, its
 * attempts and retry waits side by side; one lane per branch of a run with `dependsOn`; steps that
 * never ran shown as such; the crash and the resume), every step's errors written out, and its
 * events. No script and no external resource, so it opens anywhere, offline, and is safe to mail;
 * its size stays bounded for long runs (merged bars, collapsed plain steps, a capped events table).
 */
export const renderTimelineHtml = (p: TimelinePage): string => {
  const t = p.timeline;
  const start = Date.parse(t.startedAt);
  const endIso = t.ended || Date.parse(p.nowIso) < Date.parse(t.endedAt) ? t.endedAt : p.nowIso;
  // The axis runs on to the end of the sleeps and waits still on: a sleep is drawn to its end.
  const horizon = horizonOf(t);
  const axisEnd = Date.parse(horizon) > Date.parse(endIso) ? horizon : endIso;
  const span = Math.max(1, Date.parse(axisEnd) - start);
  const pc = (at: string): number => Math.max(0, Math.min(100, ((Date.parse(at) - start) / span) * 100));
  const pos = (from: string, to: string): string => `left:${pc(from).toFixed(2)}%;width:${(pc(to) - pc(from)).toFixed(2)}%`;
  const interrupted = !t.ended && p.liveness?.interrupted === true;
  // An attempt with no outcome in an unfinished run lasts until now (running) or is interrupted.
  const openOutcome: AttemptSpan['outcome'] = interrupted ? 'interrupted' : 'running';

  const byStep = new Map<string, AttemptSpan[]>();
  for (const a of t.attempts) {
    const list = byStep.get(a.step);
    if (list === undefined) byStep.set(a.step, [a]);
    else list.push(a);
  }
  const retriesOf = new Map<string, WaitSpan[]>();
  for (const w of t.waits) {
    if (w.kind !== 'retry' || w.step === null) continue;
    const list = retriesOf.get(w.step);
    if (list === undefined) retriesOf.set(w.step, [w]);
    else list.push(w);
  }
  /** The back-off after an attempt that ended at `end`: the step's first wait that starts then or later. */
  const retryAfter = (step: string, end: string): WaitSpan | undefined =>
    retriesOf.get(step)?.find((w) => Date.parse(w.from) >= Date.parse(end) && Date.parse(w.from) - Date.parse(end) < 1000);
  const errors = new Map<string, StepErrors>();
  const items = mapItemsOf(p.events);
  for (const r of p.events) {
    const e = r.event;
    if (e.type !== 'step.failed' && e.type !== 'item.failed') continue;
    let s = errors.get(e.stepName);
    if (s === undefined) errors.set(e.stepName, (s = { count: 0, messages: new Map(), last: null }));
    s.count++;
    const key = `${e.payload.error.name}: ${clip(e.payload.error.message, 400)}`;
    const m = s.messages.get(key);
    if (m === undefined) s.messages.set(key, { count: 1, first: e.attempt, last: e.attempt });
    else {
      m.count++;
      m.last = e.attempt;
    }
    s.last = { attempt: e.attempt, error: e.payload.error };
  }

  /** An attempt's outcome as drawn: one in flight is running (or interrupted), or sleeping or waiting. */
  const shownOutcome = (a: AttemptSpan): AttemptSpan['outcome'] =>
    a.endedAt !== null || a.outcome === 'sleeping' || a.outcome === 'waiting' ? a.outcome : openOutcome;
  const barsOf = (atts: readonly AttemptSpan[]): Bar[] => {
    const bars: Bar[] = [];
    for (const a of atts) {
      // A sleep or wait step's start is over once it sleeps or waits: its bar is not open.
      const open = a.endedAt === null && a.pause === undefined;
      const outcome = shownOutcome(a);
      // A sleep or wait step's own bar is its start; its sleep or wait is drawn after it (pauseHtml).
      const to = a.pause !== undefined ? a.pause.from : (a.endedAt ?? endIso);
      const prev = bars[bars.length - 1];
      if (
        prev !== undefined &&
        !open &&
        a.pause === undefined &&
        prev.outcome === outcome &&
        pc(a.startedAt) - pc(prev.to) < 0.4
      ) {
        prev.to = to;
        prev.last = a.attempt;
        prev.count++;
        prev.workers.add(a.worker);
        continue;
      }
      bars.push({
        outcome,
        from: a.startedAt,
        to,
        first: a.attempt,
        last: a.attempt,
        count: 1,
        workers: new Set([a.worker]),
        open,
      });
    }
    return bars;
  };
  const barHtml = (step: string, b: Bar, cls = ''): string => {
    const what =
      b.count === 1 ? `${step} attempt ${b.first}` : `${step} attempts ${b.first}–${b.last} (${b.count.toLocaleString('en')})`;
    const state = b.open ? (b.outcome === 'interrupted' ? 'interrupted: no outcome journaled' : b.outcome) : b.outcome;
    return `<i class="${OUTCOME_CLASS[b.outcome]}${b.open ? ' open' : ''}${cls}" style="${pos(b.from, b.to)}" title="${esc(`${what}: ${state}, ${dur(b.from, b.to)} on ${[...b.workers].join(', ')}`)}"></i>`;
  };

  /**
   * A sleep or a wait as a segment of its step's row, labelled: a sleep to its end, a wait to its
   * event or timeout (ahead of now: the part still to come, paler), a wait without one to now.
   */
  const pauseHtml = (step: string, a: AttemptSpan & { readonly pause: PauseSpan }): string => {
    const q = a.pause;
    const label = describePause(q);
    const title = esc(`${step} attempt ${a.attempt}: ${label}`);
    if (q.to !== null)
      return `<i class="pause ${q.kind}" data-pause="${q.kind}" data-end="${q.end ?? ''}" style="${pos(q.from, q.to)}" title="${title}">${esc(label)}</i>`;
    // Still on: the band runs to its end or timeout (to now without one), labelled; what has passed is a strip under it.
    const to = q.until !== null && Date.parse(q.until) > Date.parse(endIso) ? q.until : endIso;
    return `<i class="pause ${q.kind} on" data-pause="${q.kind}" data-end="on" style="${pos(q.from, to)}" title="${title}">${esc(label)}</i><i class="pause-elapsed ${q.kind}" style="${pos(q.from, endIso)}"></i>`;
  };

  const stepNote = (step: string, atts: readonly AttemptSpan[]): string => {
    const last = atts[atts.length - 1];
    if (last === undefined) {
      const never = t.ended ? 'never ran' : interrupted ? 'not started (run interrupted)' : 'not started yet';
      return `<span class="muted">${never}</span>`;
    }
    const open = last.endedAt === null;
    const total = dur(atts[0]?.startedAt ?? last.startedAt, last.endedAt ?? endIso);
    const paused = last.pause !== undefined && last.pause.to === null ? last.pause : null;
    const state =
      paused !== null
        ? `${describePause(paused)} · ${dur(paused.from, endIso)} so far`
        : open
          ? interrupted
            ? `interrupted · no outcome, started ${dur(last.startedAt, endIso)} ago`
            : `running · ${dur(last.startedAt, endIso)} so far`
          : last.outcome === 'interrupted'
            ? `interrupted · ≤${dur(last.startedAt, last.endedAt ?? endIso)}`
            : `${last.outcome === 'success' ? 'succeeded' : last.outcome} · ${atts.length > 1 ? `${total} in all` : total}${last.pause !== undefined && paused === null ? ` (${describePause(last.pause)})` : ''}`;
    const workers = [...new Set(atts.map((a) => a.worker))];
    const err = errors.get(step);
    const errText =
      err?.last !== null && err?.last !== undefined && last.outcome !== 'success'
        ? ` · <span class="errnote">${esc(clip(`${err.last.error.name}: ${err.last.error.message}`, 120))}</span>`
        : '';
    const m = items.get(step);
    const mapText =
      m === undefined
        ? ''
        : ` · <span class="items${m.failed.size > 0 ? ' errnote' : ''}" data-items="${m.total}">map: ${esc(describeItems(m))}</span>`;
    return `${esc(state)}${atts.length > 1 ? ` · <b>${atts.length.toLocaleString('en')} attempts</b>` : ''}${mapText} · ${esc(workers.join(', '))}${errText}`;
  };

  const stepRow = (step: string, sub: boolean): string => {
    const atts = byStep.get(step) ?? [];
    let track = '';
    if (atts.length === 0) track = '<i class="never" style="left:0"></i>';
    else {
      for (const b of barsOf(atts)) {
        track += barHtml(step, b);
        if (b.count === 1 && !b.open) {
          const wait = retryAfter(step, b.to);
          if (wait !== undefined)
            track += `<i class="w" style="${pos(wait.from, wait.to ?? endIso)}" title="${esc(`retry back-off: ${dur(wait.from, wait.to ?? endIso)}`)}"></i>`;
        }
      }
      for (const a of atts) if (a.pause !== undefined) track += pauseHtml(step, { ...a, pause: a.pause });
    }
    const last = atts[atts.length - 1];
    const status = last === undefined ? 'never' : shownOutcome(last);
    return `<div class="row step${sub ? ' sub' : ''}" data-step="${esc(step)}" data-attempts="${atts.length}" data-status="${status}"><span class="lbl" title="${esc(step)}">${esc(step)}</span><span class="trk">${track}</span><span class="note">${stepNote(step, atts)}</span></div>`;
  };

  const plain = (step: string): boolean => {
    const atts = byStep.get(step) ?? [];
    return atts.length === 1 && atts[0]?.outcome === 'success';
  };
  /** Step rows of a lane, a long stretch of plain steps folded into one row. */
  const stepRows = (steps: readonly string[], sub: boolean): string[] => {
    const out: string[] = [];
    let i = 0;
    while (i < steps.length) {
      let j = i;
      while (j < steps.length && plain(steps[j] as string)) j++;
      if (j - i > PLAIN_RUN) {
        for (const s of steps.slice(i, i + PLAIN_KEEP)) out.push(stepRow(s, sub));
        const hidden = steps.slice(i + PLAIN_KEEP, j - PLAIN_KEEP);
        const a = byStep.get(hidden[0] as string)?.[0] as AttemptSpan;
        const z = byStep.get(hidden[hidden.length - 1] as string)?.[0] as AttemptSpan;
        out.push(
          `<div class="row folded${sub ? ' sub' : ''}" data-steps="${hidden.length}"><span class="lbl">… ${hidden.length.toLocaleString('en')} steps</span><span class="trk"><i class="ok" style="${pos(a.startedAt, z.endedAt ?? endIso)}"></i></span><span class="note">${esc(`${hidden[0] as string} … ${hidden[hidden.length - 1] as string}: each succeeded at its first attempt, ${dur(a.startedAt, z.endedAt ?? endIso)} in all`)}</span></div>`,
        );
        for (const s of steps.slice(j - PLAIN_KEEP, j)) out.push(stepRow(s, sub));
        i = j;
      } else if (j > i) {
        for (const s of steps.slice(i, j)) out.push(stepRow(s, sub));
        i = j;
      } else {
        out.push(stepRow(steps[i] as string, sub));
        i++;
      }
    }
    return out;
  };

  const lanes = lanesOf(t.steps, dependsOnOf(p.events));
  const rows: string[] = [];
  if (lanes.length === 1) rows.push(...stepRows(t.steps, false));
  else {
    for (const lane of lanes) {
      let track = '';
      for (const s of lane.steps) for (const b of barsOf(byStep.get(s) ?? [])) track += barHtml(s, b, ' lanebar');
      for (const s of lane.steps)
        for (const a of byStep.get(s) ?? []) if (a.pause !== undefined) track += pauseHtml(s, { ...a, pause: a.pause });
      const ran = lane.steps.filter((s) => byStep.has(s)).length;
      rows.push(
        `<div class="row lane" data-lane="${lane.number}"><span class="lbl">branch ${lane.number}</span><span class="trk">${track}</span><span class="note">${esc(clip(lane.steps.join(' → '), 80))}${ran < lane.steps.length ? ` <span class="muted">(${lane.steps.length - ran} not run)</span>` : ''}</span></div>`,
      );
      rows.push(...stepRows(lane.steps, true));
    }
  }
  for (const v of t.waits) {
    if (v.kind === 'retry') continue;
    const to = v.to ?? endIso;
    const what =
      v.kind === 'crash'
        ? `crash: worker ${v.worker ?? '?'} stopped${v.step === null ? '' : ` during ${v.step}`}`
        : `released by ${v.worker ?? '?'}${v.step === null ? '' : ` during ${v.step}`}`;
    const note = `${what}; ${v.to === null ? `not resumed (${dur(v.from, endIso)} so far)` : `resumed after ${dur(v.from, to)}`}`;
    rows.push(
      `<div class="row gap" data-kind="${v.kind}" data-worker="${esc(v.worker ?? '')}"><span class="lbl">(${v.kind})</span><span class="trk"><i style="${pos(v.from, to)}" title="${esc(note)}"></i></span><span class="note">${esc(note)}</span></div>`,
    );
  }
  if (!t.ended && interrupted && !t.waits.some((w) => w.kind !== 'retry' && w.to === null)) {
    // Killed and not resumed yet: nothing journaled the stop; it happened after the last event.
    const last = p.events[p.events.length - 1] as RecordedEvent;
    const inFlight = t.attempts.filter((a) => a.endedAt === null).map((a) => a.step);
    const note = `crash: worker ${last.writer} stopped${inFlight.length > 0 ? ` during ${inFlight.join(', ')}` : ''} after its last event; not resumed (${dur(last.occurredAt, endIso)} so far)`;
    rows.push(
      `<div class="row gap" data-kind="crash" data-worker="${esc(last.writer)}"><span class="lbl">(crash)</span><span class="trk"><i style="${pos(last.occurredAt, endIso)}" title="${esc(note)}"></i></span><span class="note">${esc(note)}</span></div>`,
    );
  }

  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<span class="${f === 0 ? 'first' : f === 1 ? 'last' : ''}" style="left:${f * 100}%">${formatDuration(span * f)}</span>`,
    )
    .join('');
  const overlay = [
    ...t.waits.filter((w) => w.kind !== 'retry').map((w) => `<s style="${pos(w.from, w.to ?? endIso)}"></s>`),
    ...t.markers
      .filter((m) => m.kind !== 'created')
      .map(
        (m) =>
          `<b class="m-${m.kind}" data-kind="${m.kind}" style="left:${pc(m.at).toFixed(2)}%" title="${esc(`seq ${m.seq}: ${m.label}`)}"></b>`,
      ),
    t.ended
      ? ''
      : `<b class="m-now" data-kind="now" style="left:${pc(endIso).toFixed(2)}%" title="now (database clock)"><span>now</span></b>`,
  ].join('');
  const timeline = `<div id="timeline" role="img" aria-label="Timeline of run ${esc(t.runId)}">
<div class="axis"><span></span><span class="trk">${ticks}</span><span></span></div>
${rows.join('\n')}
<div class="overlay">${overlay}</div>
</div>`;

  // Steps and their errors, written out.
  const laneOf = new Map<string, number>();
  for (const l of lanes) for (const s of l.steps) laneOf.set(s, l.number);
  const stepTable = t.steps
    .filter((s) => errors.has(s) || !plain(s))
    .map((s) => {
      const atts = byStep.get(s) ?? [];
      const e = errors.get(s);
      const last = atts[atts.length - 1];
      const status =
        last === undefined
          ? t.ended
            ? 'never ran'
            : 'not started'
          : last.endedAt === null
            ? last.pause !== undefined && last.pause.to === null
              ? describePause(last.pause)
              : interrupted
                ? 'interrupted'
                : 'running'
            : last.outcome === 'success'
              ? 'succeeded'
              : last.outcome;
      const msgs =
        e === undefined
          ? ''
          : [...e.messages]
              .slice(0, MESSAGES)
              .map(
                ([m, c]) =>
                  `<div class="err"><b>${esc(m)}</b>${c.count > 1 ? ` <span class="muted">×${c.count.toLocaleString('en')} (attempts ${c.first}–${c.last})</span>` : ` <span class="muted">(attempt ${c.first})</span>`}</div>`,
              )
              .join('') +
            (e.messages.size > MESSAGES ? `<div class="muted">and ${e.messages.size - MESSAGES} other messages</div>` : '') +
            (e.last?.error.stack !== undefined && e.last.error.stack !== ''
              ? `<pre class="frames">${esc(firstFrames(e.last.error.stack, 3))}</pre><details><summary>full stack of attempt ${e.last.attempt}</summary><pre>${esc(e.last.error.stack)}</pre></details>`
              : '');
      const cut = atts
        .filter((a) => a.outcome === 'interrupted')
        .map((a) => `<div class="muted">attempt ${a.attempt} interrupted: ${esc(a.worker)} stopped before its outcome</div>`)
        .join('');
      return `<tr data-step="${esc(s)}"><td><b>${esc(s)}</b></td>${lanes.length > 1 ? `<td>${laneOf.get(s) ?? ''}</td>` : ''}<td>${esc(status)}</td><td>${atts.length}</td><td>${e === undefined ? '' : `${e.count.toLocaleString('en')} failure${e.count === 1 ? '' : 's'}`}${msgs}${cut}</td></tr>`;
    });
  const plainCount = t.steps.length - stepTable.length;

  const eventRow = (r: RecordedEvent): string => {
    const e = r.event;
    const cls = e.type.split('.')[1] ?? '';
    return `<tr class="${esc(cls)}" data-seq="${r.seq}"><td>${r.seq}</td><td>${esc(r.occurredAt)}</td><td>+${esc(formatDuration(offsetOf(t, r.occurredAt)))}</td><td>${esc(e.type)}</td><td>${'stepName' in e ? esc(e.stepName) : ''}</td><td>${'attempt' in e ? e.attempt : ''}</td><td>${esc(r.writer)}</td><td class="payload">${esc(clip(JSON.stringify(e.payload), PAYLOAD_CHARS))}</td></tr>`;
  };
  const n = p.events.length;
  const half = EVENT_ROWS / 2;
  const eventRows =
    n <= EVENT_ROWS
      ? p.events.map(eventRow)
      : [
          ...p.events.slice(0, half).map(eventRow),
          `<tr class="skipped"><td colspan="8">${(n - EVENT_ROWS).toLocaleString('en')} events (seq ${p.events[half]?.seq} to ${p.events[n - half - 1]?.seq}) not shown: <code>orbit history ${esc(t.runId)} --events</code> prints every one</td></tr>`,
          ...p.events.slice(n - half).map(eventRow),
        ];

  const workers = [...new Set(t.attempts.map((a) => a.worker))];
  // What a suspended run sleeps or waits on now (the first, as `currentWait` chooses).
  const waitNow = t.suspended ? pausedNow(t)[0] : undefined;
  // Its event came and no worker woke it yet: due, neither running nor interrupted.
  const got = waitNow === undefined ? receivedNow(t) : undefined;
  const gotText = got === undefined ? '' : `event ${JSON.stringify(got.pause.event ?? '')} received`;
  const end = t.ended
    ? (t.markers[t.markers.length - 1]?.label ?? 'ended')
    : waitNow !== undefined
      ? describeWait(waitNow.pause)
      : got !== undefined
        ? gotText
        : interrupted
          ? 'interrupted'
          : 'running';
  const state = t.ended
    ? ''
    : waitNow !== undefined
      ? `<p class="state pause" id="state" data-pause="${waitNow.pause.kind}"><b>${waitNow.pause.kind === 'sleep' ? 'Sleeping' : 'Waiting'}</b> ${esc(describeWait(waitNow.pause).replace(/^(sleeping|waiting) /, ''))} in step <b>${esc(waitNow.step)}</b>, for ${esc(dur(waitNow.pause.from, endIso))} so far (as of ${esc(p.nowIso)}). No worker holds the run and it is not interrupted: ${
          waitNow.pause.kind === 'sleep'
            ? 'a worker wakes it at that time.'
            : `<code>orbit send ${esc(t.runId)} ${esc(waitNow.pause.event ?? '')}</code> delivers the event${waitNow.pause.until !== null ? '; a worker wakes it at the timeout' : ''}.`
        }</p>`
      : got !== undefined
        ? `<p class="state pause" id="state" data-pause="received"><b>Due</b>: ${esc(gotText)} in step <b>${esc(got.step)}</b> (as of ${esc(p.nowIso)}). No worker holds the run yet and it is not interrupted: the next worker to look resumes it.</p>`
        : interrupted
          ? `<p class="state int" id="state"><b>Interrupted</b> (${esc(p.liveness?.verdict ?? '')}): no event for ${esc(dur(t.lastEventAt, endIso))}${p.liveness?.owner != null ? `; owner ${esc(p.liveness.owner)} holds no live lease` : ''}. <code>orbit resume ${esc(t.runId)}</code> continues it from its next step.</p>`
          : `<p class="state run" id="state"><b>Running</b> for ${esc(dur(t.startedAt, endIso))}${p.liveness?.owner != null ? ` on ${esc(p.liveness.owner)}` : ''}${p.liveness?.leaseUntil != null ? `, lease until ${esc(p.liveness.leaseUntil)}` : ''} (as of ${esc(p.nowIso)}).</p>`;
  const v = p.verification;
  const chain =
    v === null
      ? `<p class="chain none" id="chain">Journal not verified here: <code>orbit verify ${esc(t.runId)}</code> checks it.</p>`
      : `<div class="chain ${v.verified ? 'ok' : 'bad'}" id="chain" data-verified="${v.verified}">${
          v.verified
            ? '<b>✓ Journal verified</b>: hash chain, order, legality and projections check out'
            : `<b>✗ Journal problems</b>${v.journalIntact ? ' (the chain holds; a projection disagrees)' : ''}<ul>${v.problems
                .slice(0, 20)
                .map((x) => `<li>${esc(x)}</li>`)
                .join('')}</ul>`
        } · ${v.lastSeq.toLocaleString('en')} events · last hash <code id="last-hash">${esc(v.lastHash ?? '—')}</code> · checked ${esc(p.nowIso)}</div>`;

  return page(
    `Run ${t.runId}`,
    `<h1>Run ${esc(t.runId)}</h1>
<p class="summary" id="summary">Pipeline <b>${esc(t.pipelineId)}</b> · ${esc(end)} · ${esc(formatDuration(Date.parse(endIso) - start))}${t.ended ? '' : ' so far'} · ${t.attempts.length.toLocaleString('en')} attempts of ${t.steps.length.toLocaleString('en')} steps${lanes.length > 1 ? ` in ${lanes.length} branches` : ''} · workers: ${workers.map(esc).join(', ') || '—'} · started ${esc(t.startedAt)}</p>
${state}
${chain}
<p class="legend"><span><i class="ok"></i>succeeded</span><span><i class="ko"></i>failed</span><span><i class="int"></i>interrupted</span><span><i class="run"></i>running</span><span><i style="background:#f3f3f3;border:1px solid #999"></i>retry wait</span><span><i style="background:#fbe3e1;border:1px solid #d64541"></i>crash → resume</span><span><i style="background:#7a68b8"></i>sleep</span><span><i style="background:#1f8a8a"></i>wait for an event</span></p>
${timeline}
<h2>Steps${plainCount > 0 && stepTable.length > 0 ? ` <span class="muted">(the ${plainCount.toLocaleString('en')} that succeeded at their first attempt are left out)</span>` : ''}</h2>
${
  stepTable.length === 0
    ? `<p class="muted" id="steps">Every step succeeded at its first attempt.</p>`
    : `<table id="steps"><thead><tr><th>step</th>${lanes.length > 1 ? '<th>branch</th>' : ''}<th>status</th><th>attempts</th><th>errors</th></tr></thead><tbody>
${stepTable.join('\n')}
</tbody></table>`
}
<h2>Events</h2>
<table id="events"><thead><tr><th>seq</th><th>time</th><th>offset</th><th>type</th><th>step</th><th>attempt</th><th>writer</th><th>payload</th></tr></thead>
<tbody>
${eventRows.join('\n')}
</tbody></table>`,
  );
};
