import type { JsonValue } from '../events/json';
import type { RecordedEvent } from '../events/runEvents';

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
  /** `interrupted`: its worker stopped (crash or release) before it finished. */
  readonly outcome: 'success' | 'failed' | 'interrupted' | 'running';
  readonly error: string | null;
  readonly result: JsonValue | null;
  /** A forked run's reused step (`step.reused`): where its result came from; it did not run here. */
  readonly reusedFrom?: { readonly runId: string; readonly seq: number };
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
  readonly kind: 'created' | 'claimed' | 'released' | 'resumed' | 'succeeded' | 'failed' | 'cancelled';
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

  const closeOpen = (at: string) => {
    for (const [, i] of open) attempts[i] = { ...(attempts[i] as AttemptSpan), endedAt: at, outcome: 'interrupted' };
    open.clear();
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
        } else if (!e.payload.retryFailed) {
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
          attempts[i] =
            e.type === 'step.succeeded'
              ? { ...a, endedAt: r.occurredAt, outcome: 'success', result: e.payload.result }
              : { ...a, endedAt: r.occurredAt, outcome: 'failed', error: `${e.payload.error.name}: ${e.payload.error.message}` };
          open.delete(e.stepName);
        }
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
        closeOpen(r.occurredAt);
        ended = true;
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
  };
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
