import type { RecordedEvent } from '../../../api/readRunEvents';
import type { RunState } from '../../../api/loadRunState';
import type { RunVerification } from '../../../api/verifyRun';
import { dependsOnOf, lanesOf, type Timeline } from '../../../api/internal/timeline';
import { badge, csrfField, formatDuration, html, json, raw, time, type Html } from '../html';
import { timelineSvg } from './timelineSvg';
import { currentWait } from '../../../api/loadRunState';
import { waitBadge } from '../html';

export interface RunView {
  readonly state: RunState;
  readonly events: readonly RecordedEvent[];
  readonly timeline: Timeline | null;
  readonly verification: RunVerification;
  /** What the liveness rule says of an unfinished run (e.g. `leased`, `dead`, `stale`), with its holder. */
  readonly liveness: {
    readonly verdict: string;
    readonly interrupted: boolean;
    readonly owner: string | null;
    readonly leaseUntil: string | null;
  } | null;
  readonly nowIso: string;
  readonly csrf: string;
  readonly readOnly: boolean;
  /** A message after an action (escaped like everything else). */
  readonly flash: { readonly kind: 'ok' | 'error'; readonly text: string } | null;
}

interface StepError {
  readonly message: string;
  readonly name: string;
  readonly stack?: string;
}

/** A stack's first frames (the message line dropped): what is shown before "full stack". */
const firstFrames = (stack: string, n: number): string =>
  stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, n)
    .map((l) => l.trim())
    .join('\n');

const errorBlock = (e: StepError): Html =>
  html`<div class="error">
    <div class="error-msg"><b>${e.name}</b>: ${e.message}</div>
    ${
      e.stack !== undefined && e.stack !== ''
        ? html`<pre class="frames">${firstFrames(e.stack, 3)}</pre>
            <details class="stack">
              <summary>full stack</summary>
              <pre>${e.stack}</pre>
            </details>`
        : ''
    }
  </div>`;

const actionButton = (runId: string, action: string, label: string, cls: string, extra = ''): Html =>
  html`<a class="button ${cls}" href="${`/runs/${encodeURIComponent(runId)}/confirm?action=${action}${extra}`}">${label}</a>`;

/**
 * The actions a run's status allows: resume or cancel an unfinished one, cancel a suspended one,
 * send a waiting one the event it waits for, retry a failed one, fork a finished one.
 */
export const allowedActions = (status: string): readonly RunAction[] =>
  status === 'pending' || status === 'running'
    ? ['resume', 'cancel']
    : status === 'waiting'
      ? ['send', 'cancel']
      : status === 'sleeping'
        ? ['cancel']
        : status === 'failed'
          ? ['retry', 'fork']
          : status === 'success' || status === 'cancelled'
            ? ['fork']
            : [];

/** The events a run's waiting steps wait for, each once (what "send" offers). */
export const awaitedEvents = (s: RunState): readonly string[] => [
  ...new Set(s.steps.flatMap((st) => (st.status === 'waiting' && st.waitingFor !== undefined ? [st.waitingFor] : []))),
];

const ACTION_TEXT = {
  resume: { label: 'Resume', what: 'Resume this run from its next step. Steps that succeeded never run again.' },
  retry: {
    label: 'Resume, retrying failed steps',
    what: 'Resume this run and execute its failed steps again (after you fixed the cause).',
  },
  cancel: { label: 'Cancel', what: "Cancel this run: the running step's signal fires and no further step starts." },
  fork: {
    label: 'Fork',
    what:
      'Start a new run of this pipeline with the same metadata, from the step chosen below: it and every step ' +
      "downstream of it run again, in the dashboard's process; every other step that succeeded keeps its " +
      'journaled result (its handler is not called). This run is only read.',
  },
  send: {
    label: 'Send',
    what: "Send the event to this run: the step waiting for it takes it, its data becoming the step's data, and a worker resumes the run.",
  },
} as const;

export type RunAction = keyof typeof ACTION_TEXT;

/** What a confirmation page needs beyond the run id: fork's steps to choose from, send's event and data. */
export type ConfirmView =
  | { readonly action: 'resume' | 'retry' | 'cancel' }
  | {
      readonly action: 'fork';
      readonly steps: readonly { readonly name: string; readonly status: string }[];
      readonly selected: string;
    }
  | {
      readonly action: 'send';
      readonly event: string;
      /** The waiting steps that take it (none: the run does not wait for it now). */
      readonly steps: readonly string[];
      /** The data as typed (kept when it is sent back with an error). */
      readonly data: string;
      readonly error: string | null;
    };

const confirmFields = (v: ConfirmView): Html => {
  if (v.action === 'fork')
    return html`<label class="field"
      >From step
      <select name="step" id="fork-step">
        ${v.steps.map(
          (st) =>
            html`<option value="${st.name}" ${v.selected === st.name ? raw('selected') : ''}>${st.name} (${st.status})</option>`,
        )}
      </select></label
    >`;
  if (v.action === 'send')
    return html`<input type="hidden" name="event" value="${v.event}" />
      <label class="field"
        >Data (JSON; empty sends null) <textarea name="data" id="event-data" rows="6" spellcheck="false">${v.data}</textarea>
      </label>
      ${v.error !== null ? html`<p class="flash error field" id="data-error">${v.error}</p>` : ''}`;
  return html``;
};

export const confirmMain = (runId: string, v: ConfirmView, csrf: string, askedBy: string): Html => {
  const text = ACTION_TEXT[v.action];
  const title = v.action === 'send' ? `Send ${JSON.stringify(v.event)}` : text.label;
  return html`<div class="confirm">
    <h1>${title}?</h1>
    <p>Run <span class="mono">${runId}</span></p>
    ${
      v.action === 'send'
        ? html`<p>
            ${
              v.steps.length > 0
                ? html`It waits for <b>${JSON.stringify(v.event)}</b> (step ${v.steps.join(', ')}).`
                : html`<span class="muted">No step of it waits for ${JSON.stringify(v.event)} now.</span>`
            }
          </p>`
        : ''
    }
    <p>${text.what} The action is journaled as asked from the dashboard (<span class="mono">${askedBy}</span>).</p>
    <form method="post" action="${`/runs/${encodeURIComponent(runId)}/${v.action}`}">
      ${csrfField(csrf)} ${confirmFields(v)}
      <button type="submit" class="${v.action === 'cancel' ? 'danger' : 'primary'}" id="confirm">${text.label}</button>
      <a class="button" href="${`/runs/${encodeURIComponent(runId)}`}">Back</a>
    </form>
  </div>`;
};

export const runMain = (v: RunView): Html => {
  const s = v.state;
  const start = Date.parse(s.startedAt);
  const endMs = s.finishedAt !== null ? Date.parse(s.finishedAt) : Date.parse(v.nowIso);
  const errors = new Map<string, StepError>();
  for (const r of v.events)
    if (r.event.type === 'step.failed') errors.set(`${r.event.stepName}#${r.event.attempt}`, r.event.payload.error);
  const attemptsOf = (step: string) => (v.timeline?.attempts ?? []).filter((a) => a.step === step);
  const resumes = v.events.flatMap((r) => (r.event.type === 'run.resumed' ? [{ r, p: r.event.payload }] : []));
  const crashes = (v.timeline?.waits ?? []).filter((w) => w.kind !== 'retry');
  const actions = v.readOnly ? [] : allowedActions(s.status);
  // A suspended run's chip says what it sleeps or waits for, as on the runs page.
  const wait = s.status === 'sleeping' || s.status === 'waiting' ? currentWait(s) : null;

  const live =
    v.liveness === null
      ? ''
      : v.liveness.interrupted
        ? html`<span class="badge s-interrupted" title="${`liveness: ${v.liveness.verdict}`}"
            >interrupted (${v.liveness.verdict})</span
          >`
        : v.liveness.owner !== null
          ? html`<span class="muted"
              >held by
              <span class="mono">${v.liveness.owner}</span
              >${v.liveness.leaseUntil !== null ? html`, lease until ${time(v.liveness.leaseUntil)}` : ''}</span
            >`
          : html`<span class="muted">${v.liveness.verdict}</span>`;

  const stepRows = s.steps.map((st) => {
    const atts = attemptsOf(st.name);
    const writers = [...new Set(atts.map((a) => a.worker))];
    const last = st.attemptCount > 0 ? errors.get(`${st.name}#${st.attemptCount}`) : undefined;
    const dur =
      st.startedAt !== null
        ? formatDuration((st.finishedAt !== null ? Date.parse(st.finishedAt) : Date.parse(v.nowIso)) - Date.parse(st.startedAt))
        : '';
    return html`<tr class="step s-${st.status}" data-step="${st.name}">
        <td class="idx">${st.index + 1}</td>
        <td><b>${st.name}</b></td>
        <td>
          ${
            st.status === 'sleeping' || st.status === 'waiting'
              ? waitBadge(st.status, {
                  kind: st.status === 'sleeping' ? 'sleep' : 'wait',
                  step: st.name,
                  until: st.nextRetryAt,
                  event: st.waitingFor ?? null,
                })
              : badge(st.attemptCount === 0 && st.status === 'pending' ? 'pending' : st.status)
          }
        </td>
        <td class="num">
          ${st.attemptCount === 0 ? html`<span class="muted">never ran</span>` : st.attemptCount === 1 ? '1' : html`<b>${st.attemptCount}</b> attempts`}
        </td>
        <td class="num">${dur}</td>
        <td>${writers.map((w, i) => html`${i > 0 ? ', ' : ''}<span class="mono small">${w}</span>`)}</td>
      </tr>
      <tr class="step-detail">
        <td></td>
        <td colspan="5">
          ${(st.status === 'failed' || st.status === 'retrying') && last !== undefined ? errorBlock(last) : ''}
          ${
            atts.length > 1
              ? html`<details class="attempts">
                  <summary>${atts.length} attempts</summary>
                  <table class="mini">
                    <thead>
                      <tr>
                        <th>#</th>
                        <th>outcome</th>
                        <th>started</th>
                        <th>took</th>
                        <th>worker</th>
                        <th>error</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${atts.map((a) => {
                        const e = errors.get(`${a.step}#${a.attempt}`);
                        return html`<tr>
                          <td>${a.attempt}</td>
                          <td>${badge(a.outcome === 'success' ? 'success' : a.outcome)}</td>
                          <td>${time(a.startedAt)}</td>
                          <td class="num">
                            ${formatDuration((a.endedAt === null ? Date.parse(v.nowIso) : Date.parse(a.endedAt)) - Date.parse(a.startedAt))}
                          </td>
                          <td class="mono small">${a.worker}</td>
                          <td>${e !== undefined ? errorBlock(e) : ''}</td>
                        </tr>`;
                      })}
                    </tbody>
                  </table>
                </details>`
              : ''
          }
          ${
            st.result !== null
              ? html`<details class="result">
                  <summary>output</summary>
                  ${json(st.result)}
                </details>`
              : ''
          }
        </td>
      </tr>`;
  });

  return html`<div class="run-head">
      <div>
        <div class="crumbs">
          <a href="/">Runs</a> / <a href="${`/?pipeline=${encodeURIComponent(s.pipelineId)}`}">${s.pipelineId}</a>
        </div>
        <h1 class="mono">${s.runId}</h1>
        <p class="facts">
          ${wait !== null ? waitBadge(s.status, wait) : badge(s.status)} ${live} · started ${time(s.startedAt)} ·
          ${
            s.finishedAt !== null
              ? html`took <b>${formatDuration(endMs - start)}</b>`
              : wait !== null
                ? html`in step <b>${wait.step}</b>, no worker holds it ·
                    <b class="elapsed" data-since="${s.startedAt}">${formatDuration(endMs - start)}</b> since it started`
                : html`running for <b class="elapsed" data-since="${s.startedAt}">${formatDuration(endMs - start)}</b>`
          }
          · ${s.steps.filter((x) => x.status === 'success').length}/${s.steps.length} steps
          ${s.triggeredBy !== null ? html` · triggered by <span class="mono">${s.triggeredBy}</span>` : ''}
          ${s.forkedFrom !== undefined ? html` · forked from <a class="mono" id="forked-from" href="${`/runs/${encodeURIComponent(s.forkedFrom.runId)}`}">${s.forkedFrom.runId}</a> at step <b>${s.forkedFrom.step}</b>` : ''}
        </p>
      </div>
      <div class="actions">
        ${actions.map((a) =>
          a === 'send'
            ? awaitedEvents(s).map((ev) =>
                actionButton(s.runId, a, `Send ${JSON.stringify(ev)}…`, 'primary send', `&event=${encodeURIComponent(ev)}`),
              )
            : actionButton(
                s.runId,
                a,
                a === 'fork' ? 'Fork…' : ACTION_TEXT[a].label,
                a === 'cancel' ? 'danger' : a === 'fork' ? 'fork' : 'primary',
              ),
        )}
      </div>
    </div>
    ${v.flash !== null ? html`<p class="flash ${v.flash.kind}" id="flash">${v.flash.text}</p>` : ''}
    ${s.error !== null ? html`<div class="run-error"><b>${s.status === 'cancelled' ? 'Cancelled' : 'Failed'}:</b> ${s.error}</div>` : ''}
    <section class="chain ${v.verification.verified ? 'ok' : 'bad'}" id="chain">
      ${
        v.verification.verified
          ? html`<b>✓ Journal verified</b> · hash chain, order and projections check out`
          : html`<b>✗ Journal problems</b>
              <ul>
                ${v.verification.problems.map((p) => html`<li>${p}</li>`)}
              </ul>`
      }
      · ${v.verification.lastSeq} events · last hash
      <span class="mono small" title="${v.verification.lastHash ?? ''}"
        >${v.verification.lastHash === null ? '—' : `${v.verification.lastHash.slice(0, 16)}…`}</span
      >
    </section>
    ${
      crashes.length > 0 || resumes.length > 0
        ? html`<section class="recovery-band" id="recovery-band">
            <h2>Crashes and resumes</h2>
            <ol>
              ${crashes.map(
                (w) =>
                  html`<li class="crash">
                    <b>${w.kind === 'crash' ? 'Crashed' : 'Released'}</b>
                    ${time(w.from)}${w.step !== null ? html` during <b>${w.step}</b>` : ''} · worker
                    <span class="mono small">${w.worker ?? '?'}</span
                    >${w.to !== null ? html` · back after <b>${formatDuration(Date.parse(w.to) - Date.parse(w.from))}</b>` : html` · <span class="badge s-interrupted">not resumed yet</span>`}
                  </li>`,
              )}
              ${resumes.map(
                ({ r, p }) =>
                  html`<li class="resume">
                    <b>Resumed</b> ${time(r.occurredAt)} by
                    <span class="mono small">${p.by}</span
                    >${p.requestedBy !== undefined ? html` for <span class="mono small">${p.requestedBy}</span>` : ''} —
                    ${p.reason}${p.fromStep !== null ? html` · from <b>${p.fromStep}</b>` : ''}${p.inFlight.length > 0 ? html` · re-ran ${p.inFlight.join(', ')}` : ''}${p.retryFailed ? ' · retrying failed steps' : ''}
                  </li>`,
              )}
            </ol>
          </section>`
        : ''
    }
    <section>
      <h2>Timeline</h2>
      ${
        v.timeline !== null
          ? html`<div class="legend">
                <span class="k o-success"></span>succeeded <span class="k o-failed"></span>failed
                <span class="k o-interrupted"></span>interrupted <span class="k o-running"></span>running
                <span class="k wait"></span>retry wait <span class="k band-crash"></span>crash → resume
                <span class="k pause-sleep"></span>sleep <span class="k pause-wait"></span>wait for an event
              </div>
              ${timelineSvg(v.timeline, v.nowIso, lanesOf(v.timeline.steps, dependsOnOf(v.events)))}`
          : html`<p class="muted">No events.</p>`
      }
    </section>
    <section>
      <h2>Steps</h2>
      <table class="steps" id="steps">
        <thead>
          <tr>
            <th>#</th>
            <th>Step</th>
            <th>Status</th>
            <th class="num">Attempts</th>
            <th class="num">Took</th>
            <th>Writer</th>
          </tr>
        </thead>
        <tbody>
          ${stepRows}
        </tbody>
      </table>
    </section>
    <section>
      <details class="input" open>
        <summary><h2>Input (metadata)</h2></summary>
        ${json(s.metadata)}
      </details>
    </section>
    <section>
      <details class="events">
        <summary><h2>Journal (${v.events.length} events)</h2></summary>
        <table class="mini">
          <thead>
            <tr>
              <th>seq</th>
              <th>time</th>
              <th>type</th>
              <th>step</th>
              <th>attempt</th>
              <th>writer</th>
            </tr>
          </thead>
          <tbody>
            ${v.events.map(
              (r) =>
                html`<tr class="${r.event.type.replace('.', '-')}">
                  <td>${r.seq}</td>
                  <td>${time(r.occurredAt)}</td>
                  <td>${r.event.type}</td>
                  <td>${'stepName' in r.event ? r.event.stepName : ''}</td>
                  <td>${'attempt' in r.event ? r.event.attempt : ''}</td>
                  <td class="mono small">${r.writer}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </details>
    </section>`;
};
