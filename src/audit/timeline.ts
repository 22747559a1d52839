import type { JsonValue } from '../events/json';
import type { RecordedEvent } from '../events/runEvents';
import { describeWait } from '../fold/runWait';

/**
 * A sleep (`step.sleeping`) or a wait for an event (`step.waiting`) inside a step's attempt:
 * from when it began to when it ended (the sleep's end, the event's arrival, the timeout).
 */
export interface PauseSpan {
  readonly kind: 'sleep' | 'wait';
  readonly from: string;
  /** The sleep's end, the wait's timeout (null: a wait without one), as journaled when it began. */
  readonly until: string | null;
  /** A wait: the event's name. */
  readonly event: string | null;
  /** When it ended; null while it goes on. */
  readonly to: string | null;
  /** How it ended: `slept` (its time came), `received` (the event), `timed out`, `cancelled` (the run ended); null while on. */
  readonly end: 'slept' | 'received' | 'timed out' | 'cancelled' | null;
  /** A wait that received its event: who sent it (`sender`, else the sending process). */
  readonly sender: string | null;
}

/** One attempt of one step, from its `step.started` to its outcome. */
export interface AttemptSpan {
  readonly step: string;
  readonly attempt: number;
  /** The worker that executed it (writer of its `step.started`). */
  readonly worker: string;
  readonly startSeq: number;
  readonly startedAt: string;
  /** When it ended; for an interrupted attempt, when the run was resumed or released. */
  readonly endedAt: string | null;
  /**
   * `interrupted`: its worker stopped (crash or release) before it finished; `sleeping`,
   * `waiting`: it is in its `pause` now (no worker executes it).
   */
  readonly outcome: 'success' | 'failed' | 'interrupted' | 'running' | 'sleeping' | 'waiting';
  readonly error: string | null;
  readonly result: JsonValue | null;
  /** A forked run's reused step (`step.reused`): where its result came from; it did not run here. */
  readonly reusedFrom?: { readonly runId: string; readonly seq: number };
  /** A sleep or wait step's attempt: its sleep or wait. */
  readonly pause?: PauseSpan;
}

/** Time a run spent not executing: a retry's back-off, or the gap between a crash and the resume. */
export interface WaitSpan {
  readonly kind: 'retry' | 'crash' | 'released';
  /** The step that waited (for a crash, the step in flight, if any). */
  readonly step: string | null;
  readonly from: string;
  readonly to: string | null;
  /** For a crash: the worker that stopped; for a release, the worker that let go. */
  readonly worker: string | null;
}

/** A run-level moment: creation, claims, releases, resumes, the end. */
export interface RunMarker {
  readonly seq: number;
  readonly at: string;
  readonly kind: 'created' | 'claimed' | 'released' | 'resumed' | 'suspended' | 'event' | 'succeeded' | 'failed' | 'cancelled';
  readonly worker: string;
  readonly label: string;
}

/** A run's history arranged on a time axis: what `history` draws. Pure: built from events only. */
export interface Timeline {
  readonly runId: string;
  readonly pipelineId: string;
  readonly steps: readonly string[];
  readonly startedAt: string;
  /**
   * The run's end; while it has not ended, the `now` it was built at (else its last event): what
   * a running attempt, an open wait and the run's duration run up to.
   */
  readonly endedAt: string;
  readonly ended: boolean;
  /** From the start to `endedAt`: for a run not ended, how long it has been going as of `now`. */
  readonly durationMs: number;
  /** The run's last journaled event (for a run not ended, how long it has been silent is `endedAt` minus this). */
  readonly lastEventAt: string;
  readonly attempts: readonly AttemptSpan[];
  readonly waits: readonly WaitSpan[];
  readonly markers: readonly RunMarker[];
  /**
   * The run is suspended now (a `run.suspended` not yet followed by a resume): no worker holds it,
   * its open attempts sleep or wait. False once it ended or was resumed.
   */
  readonly suspended: boolean;
}

const ms = (a: string, b: string): number => Date.parse(b) - Date.parse(a);

/**
 * Arranges a run's events (in seq order) as a timeline. Returns null for an empty list. `now` (ISO,
 * on the database's clock, as the journal's times are: `databaseNow`) is where a run that has not
 * ended is drawn up to, so a running or crashed run shows how long it has been going; without it,
 * its last event.
 */
export const buildTimeline = (events: readonly RecordedEvent[], now?: string): Timeline | null => {
  const first = events[0];
  if (first === undefined || first.event.type !== 'run.created') return null;
  const attempts: (AttemptSpan & { endedAt: string | null })[] = [];
  const waits: WaitSpan[] = [];
  const markers: RunMarker[] = [];
  const open = new Map<string, number>(); // step -> index in attempts of its running attempt
  const retryWait = new Map<string, number>(); // step -> index in waits of its open back-off
  let lastByWorker = first;
  let ended = false;

  // A run's events received and not yet taken by a wait (as the fold's inbox), oldest first.
  const inbox: { event: string; at: string; sender: string }[] = [];
  let suspended = false;

  /**
   * Ends the attempts in flight: interrupted. A sleep or a wait goes on through a release or a
   * resume (the fold keeps its step sleeping or waiting), unless the run ended (`ended`).
   */
  const closeOpen = (at: string, ended = false) => {
    for (const [step, i] of open) {
      const a = attempts[i] as AttemptSpan;
      if (a.pause !== undefined && !ended) continue;
      attempts[i] = {
        ...a,
        endedAt: at,
        outcome: 'interrupted',
        ...(a.pause !== undefined && a.pause.to === null ? { pause: { ...a.pause, to: at, end: 'cancelled' as const } } : {}),
      };
      open.delete(step);
    }
  };
  /** A wait takes the oldest kept event of its name (the fold's rule): when it arrived, and from whom. */
  const take = (event: string | null): { at: string; sender: string } | undefined => {
    const k = inbox.findIndex((x) => x.event === event);
    return k < 0 ? undefined : inbox.splice(k, 1)[0];
  };
  /** A pause ended by the step's outcome at `at`: the sleep's end, or a wait's timeout (its event took it earlier). */
  const endPause = (p: PauseSpan, at: string): PauseSpan => {
    if (p.to !== null) return p;
    const planned = p.until !== null && Date.parse(p.until) < Date.parse(at) ? p.until : at;
    return { ...p, to: planned, end: p.kind === 'sleep' ? 'slept' : 'timed out' };
  };

  for (const r of events) {
    const e = r.event;
    const worker = r.writer;
    switch (e.type) {
      case 'run.created':
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'created',
          worker,
          label: `created by ${e.payload.triggeredBy ?? 'unknown'}${
            e.payload.forkedFrom !== undefined
              ? `, forked from run ${e.payload.forkedFrom.runId} at step ${e.payload.forkedFrom.step}`
              : ''
          }`,
        });
        break;
      case 'run.claimed':
        suspended = false;
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'claimed',
          worker: e.payload.worker,
          label: `claimed by ${e.payload.worker}`,
        });
        break;
      case 'run.released': {
        const inFlight = [...open.keys()][0] ?? null;
        closeOpen(r.occurredAt);
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'released',
          worker,
          label: `released by ${e.payload.worker}: ${e.payload.reason}`,
        });
        waits.push({ kind: 'released', step: inFlight, from: r.occurredAt, to: null, worker: e.payload.worker });
        break;
      }
      case 'run.resumed': {
        const openRelease = waits.findIndex((w) => w.kind === 'released' && w.to === null);
        if (openRelease >= 0) {
          waits[openRelease] = { ...(waits[openRelease] as WaitSpan), to: r.occurredAt };
        } else if (!e.payload.retryFailed && !suspended) {
          // Nobody let go of the run: its worker stopped (crash) after its last journaled event.
          const inFlight = [...open.keys()][0] ?? e.payload.inFlight[0] ?? null;
          waits.push({
            kind: 'crash',
            step: inFlight,
            from: lastByWorker.occurredAt,
            to: r.occurredAt,
            worker: lastByWorker.writer,
          });
        }
        closeOpen(r.occurredAt);
        ended = false;
        suspended = false;
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'resumed',
          worker,
          label: `resumed by ${e.payload.by}${e.payload.requestedBy !== undefined ? ` for ${e.payload.requestedBy}` : ''} (${e.payload.reason})${e.payload.inFlight.length > 0 ? `, re-running ${e.payload.inFlight.join(', ')}` : ''}`,
        });
        break;
      }
      case 'step.started': {
        const w = retryWait.get(e.stepName);
        if (w !== undefined) {
          waits[w] = { ...(waits[w] as WaitSpan), to: r.occurredAt };
          retryWait.delete(e.stepName);
        }
        open.set(e.stepName, attempts.length);
        attempts.push({
          step: e.stepName,
          attempt: e.attempt,
          worker,
          startSeq: r.seq,
          startedAt: r.occurredAt,
          endedAt: null,
          outcome: 'running',
          error: null,
          result: null,
        });
        break;
      }
      case 'step.succeeded':
      case 'step.failed': {
        const i = open.get(e.stepName);
        if (i !== undefined) {
          const a = attempts[i] as AttemptSpan;
          const pause = a.pause === undefined ? {} : { pause: endPause(a.pause, r.occurredAt) };
          attempts[i] =
            e.type === 'step.succeeded'
              ? { ...a, ...pause, endedAt: r.occurredAt, outcome: 'success', result: e.payload.result }
              : {
                  ...a,
                  ...pause,
                  endedAt: r.occurredAt,
                  outcome: 'failed',
                  error: `${e.payload.error.name}: ${e.payload.error.message}`,
                };
          open.delete(e.stepName);
        }
        break;
      }
      case 'step.sleeping':
      case 'step.waiting': {
        const i = open.get(e.stepName);
        if (i === undefined) break;
        const kind = e.type === 'step.sleeping' ? 'sleep' : 'wait';
        const until = e.type === 'step.sleeping' ? e.payload.until : e.payload.timeoutAt;
        const event = e.type === 'step.waiting' ? e.payload.event : null;
        // An event sent before the wait began is taken at once: a wait of no length.
        const early = kind === 'wait' ? take(event) : undefined;
        const pause: PauseSpan = {
          kind,
          from: r.occurredAt,
          until,
          event,
          to: early === undefined ? null : r.occurredAt,
          end: early === undefined ? null : 'received',
          sender: early?.sender ?? null,
        };
        attempts[i] = {
          ...(attempts[i] as AttemptSpan),
          outcome: early !== undefined ? 'running' : kind === 'sleep' ? 'sleeping' : 'waiting',
          pause,
        };
        break;
      }
      case 'event.received': {
        const sender = e.payload.sender ?? e.payload.by;
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'event',
          worker,
          label: `event ${JSON.stringify(e.payload.event)} received from ${sender}`,
        });
        // The first wait for it that has none ends now; else it is kept for a later wait.
        const k = attempts.findIndex(
          (a) => a.endedAt === null && a.pause?.kind === 'wait' && a.pause.to === null && a.pause.event === e.payload.event,
        );
        const a = attempts[k];
        if (a?.pause === undefined) inbox.push({ event: e.payload.event, at: r.occurredAt, sender });
        else attempts[k] = { ...a, outcome: 'running', pause: { ...a.pause, to: r.occurredAt, end: 'received', sender } };
        break;
      }
      case 'event.rejected': {
        // The wait it seemed to end goes on (the event's data did not fit the step's codec).
        const k = attempts.findIndex(
          (a) => a.step === e.payload.step && a.endedAt === null && a.pause?.kind === 'wait' && a.pause.end === 'received',
        );
        const a = attempts[k];
        if (a?.pause !== undefined)
          attempts[k] = { ...a, outcome: 'waiting', pause: { ...a.pause, to: null, end: null, sender: null } };
        else take(e.payload.event);
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'event',
          worker,
          label: `event ${JSON.stringify(e.payload.event)} of seq ${e.payload.seq} turned away by ${e.payload.step}: ${e.payload.reason}`,
        });
        break;
      }
      case 'run.suspended': {
        suspended = true;
        const paused = attempts.filter((a) => a.endedAt === null && a.pause !== undefined && a.pause.to === null);
        markers.push({
          seq: r.seq,
          at: r.occurredAt,
          kind: 'suspended',
          worker,
          label: `suspended by ${e.payload.worker}: ${paused.map((a) => `${a.step} ${describeWait(a.pause as PauseSpan)}`).join(', ') || 'nothing left to run'}`,
        });
        break;
      }
      case 'step.reused':
        attempts.push({
          step: e.stepName,
          attempt: e.attempt,
          worker,
          startSeq: r.seq,
          startedAt: r.occurredAt,
          endedAt: r.occurredAt,
          outcome: 'success',
          error: null,
          result: e.payload.result,
          reusedFrom: { runId: e.payload.fromRun, seq: e.payload.fromSeq },
        });
        break;
      case 'step.retry_scheduled':
        retryWait.set(e.stepName, waits.length);
        waits.push({ kind: 'retry', step: e.stepName, from: r.occurredAt, to: null, worker });
        break;
      case 'run.succeeded':
      case 'run.failed':
      case 'run.cancelled': {
        closeOpen(r.occurredAt, true);
        ended = true;
        suspended = false;
        const [kind, label] =
          e.type === 'run.succeeded'
            ? (['succeeded', 'succeeded'] as const)
            : e.type === 'run.failed'
              ? (['failed', `failed: ${e.payload.reason}`] as const)
              : (['cancelled', `cancelled by ${e.payload.by}: ${e.payload.reason}`] as const);
        markers.push({ seq: r.seq, at: r.occurredAt, kind, worker, label });
        break;
      }
    }
    lastByWorker = r;
  }
  const last = events[events.length - 1] as RecordedEvent;
  const endedAt = !ended && now !== undefined && ms(last.occurredAt, now) > 0 ? now : last.occurredAt;
  return {
    runId: first.runId,
    pipelineId: first.event.payload.pipelineId,
    steps: first.event.payload.steps,
    startedAt: first.occurredAt,
    endedAt,
    ended,
    durationMs: ms(first.occurredAt, endedAt),
    lastEventAt: last.occurredAt,
    attempts,
    waits,
    markers,
    suspended,
  };
};

/**
 * The attempts sleeping or waiting now, the one the run is shown as first (as `currentWait`
 * chooses: a wait for an event, then the one due first).
 */
export const pausedNow = (t: Timeline): readonly (AttemptSpan & { readonly pause: PauseSpan })[] => {
  const due = (p: PauseSpan) => (p.until === null ? Infinity : Date.parse(p.until));
  return t.attempts
    .filter((a): a is AttemptSpan & { pause: PauseSpan } => a.endedAt === null && a.pause !== undefined && a.pause.to === null)
    .sort((a, b) => (a.pause.kind === b.pause.kind ? due(a.pause) - due(b.pause) : a.pause.kind === 'wait' ? -1 : 1));
};

/**
 * The wait whose event came while the run is still suspended (no worker woke it yet): the run is
 * due, not interrupted and not running. Undefined otherwise.
 */
export const receivedNow = (t: Timeline): (AttemptSpan & { readonly pause: PauseSpan }) | undefined =>
  t.suspended && !t.ended
    ? t.attempts.find(
        (a): a is AttemptSpan & { pause: PauseSpan } => a.endedAt === null && a.pause !== undefined && a.pause.end === 'received',
      )
    : undefined;

/**
 * A pause in words: while on, as the run's status says it (`sleeping until …`, `waiting for
 * "approved" (times out …)`); once over, how it ended (`slept until …`, `waited 2m03s for
 * "approved": received from ana`, `… timed out`).
 */
export const describePause = (p: PauseSpan): string => {
  if (p.to === null) return describeWait(p);
  const took = formatDuration(Date.parse(p.to) - Date.parse(p.from));
  const what = p.kind === 'sleep' ? `slept ${took}` : `waited ${took} for ${JSON.stringify(p.event ?? '')}`;
  switch (p.end) {
    case 'received':
      return `${what}: received from ${p.sender ?? '?'}`;
    case 'timed out':
      return `${what}: timed out`;
    case 'cancelled':
      return `${what}: the run ended`;
    default:
      return what;
  }
};

/**
 * Where a picture of the run ends: its end, or for a run not ended, the later of now and the end
 * of every sleep and wait still on (a sleep is drawn to its end, a wait to its timeout).
 */
export const horizonOf = (t: Timeline): string => {
  let end = t.endedAt;
  if (t.ended) return end;
  for (const a of t.attempts) {
    const u = a.endedAt === null && a.pause !== undefined && a.pause.to === null ? a.pause.until : null;
    if (u !== null && Date.parse(u) > Date.parse(end)) end = u;
  }
  return end;
};

/** `850ms`, `1.2s`, `3m 04s`, `2h 05m`: short enough for a column. */
export const formatDuration = (n: number): string => {
  if (n < 1000) return `${Math.max(0, Math.round(n))}ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)}s`;
  const s = Math.round(n / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

/** Milliseconds from the run's start to `at`. */
export const offsetOf = (t: Timeline, at: string): number => ms(t.startedAt, at);
