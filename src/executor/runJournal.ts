import * as E from 'fp-ts/Either';
import { decideNext } from '../decide/decideNext';
import {
  formatError,
  OrbitErrors,
  type AppendFailure,
  type ConcurrencyConflict,
  type ExecuteFailure,
  type OrbitError,
} from '../errors';
import type { RunEvent } from '../events/runEvents';
import type { RunState } from '../fold/runState';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { readRunEvents } from '../journal/readEvents';
import { foldEvents } from '../fold/evolve';
import type { Pipeline } from '../pipeline/types';
import type { OrbitClient } from '../runtime/orbitClient';
import type { ExecutionEnv } from './executionEnv';
import { faultAfterAppend } from './faultPoints';
import type { Progress } from './progress';

/**
 * One executor's view of one run's journal: the state as last committed, the appends (each
 * stating the seq last seen), and what happens when one is refused. `fence` fires when another
 * process writes to the run (a NOTIFY past our own seq) or one of our appends loses.
 */
export class RunJournal {
  readonly fence = new AbortController();
  private writingUpTo = 0;
  private claimed = false;
  private unwatch: () => void = () => undefined;
  // Progress is reported once the outcome it describes is journaled, never before.
  private unreported: Progress[] = [];

  constructor(
    private readonly client: OrbitClient,
    private readonly env: ExecutionEnv,
    readonly runId: string,
    public state: RunState | null,
    private readonly onClaimed?: (runId: string) => void,
    private readonly onProgress?: (p: Progress) => void,
  ) {}

  async watch(): Promise<void> {
    const { runId } = this;
    this.unwatch = await this.env.watcher.watch(runId, (n) => {
      // An event sent to the run takes nothing from us: our next append absorbs it (absorbReceived).
      if (n.type === 'event.received') return;
      if (n.seq > this.writingUpTo) {
        this.fence.abort(new Error(`run ${runId} was changed by another process (${n.type} at seq ${n.seq})`));
      }
    });
  }

  close(): void {
    this.unwatch();
  }

  /** Reported after the next successful append. */
  report(p: Progress | undefined): void {
    if (p !== undefined) this.unreported.push(p);
  }

  async write(events: readonly RunEvent[]): Promise<E.Either<AppendFailure, RunState>> {
    const { state, runId } = this;
    const expectedSeq = state?.lastSeq ?? 0;
    this.writingUpTo = expectedSeq + events.length;
    const r = await appendToRun(this.client.db, { runId, expectedSeq, state, events, writer: this.client.workerId });
    if (E.isLeft(r)) return r;
    if (!this.claimed) this.onClaimed?.(runId);
    this.claimed = true;
    this.state = r.right.state;
    this.env.clock.observe(r.right.committedAt);
    faultAfterAppend(this.client.faultAfter, events);
    const report = this.unreported;
    this.unreported = [];
    for (const p of report) this.onProgress?.(p);
    return E.right(r.right.state);
  }

  /**
   * Our append was refused as a conflict: if all that was written meanwhile is events sent to the
   * run (`event.received`, by `orbit send`), fold them into our state and return true (the caller
   * decides again and appends after them). Any other writer: false (we are fenced).
   */
  async absorbReceived(): Promise<boolean> {
    const { state } = this;
    if (state === null || this.fence.signal.aborted) return false;
    const more = await readRunEvents(this.client.db, this.runId, state.lastSeq);
    if (E.isLeft(more) || more.right.length === 0 || more.right.some((r) => r.event.type !== 'event.received')) return false;
    const folded = foldEvents(state, more.right);
    if (E.isLeft(folded) || folded.right === null) return false;
    this.state = folded.right;
    return true;
  }

  /**
   * Our append was refused, or would be (`fence` fired): find out who won. A cancellation ends
   * the run normally; any other writer fences us; a refusal that is not a conflict ends the run
   * or hands it back (decideNext says which), best effort.
   */
  async lost<C extends OrbitError>(
    why: AppendFailure,
    pipeline: Pipeline,
    claimConflict: C,
  ): Promise<E.Either<ExecuteFailure | C, { readonly state: RunState; readonly released: boolean }>> {
    const { runId, state } = this;
    this.fence.abort(new Error(`run ${runId} was taken over by another writer`));
    if (why._tag !== 'ConcurrencyConflict') {
      if (this.claimed && state !== null) {
        const fallback = decideNext(state, pipeline, {
          kind: 'journalRefused',
          unreachable: why._tag === 'DatabaseUnavailable',
          message: formatError(why),
          worker: this.client.workerId,
          stopping: false,
        });
        if (E.isRight(fallback) && fallback.right.events.length > 0) {
          const events = fallback.right.events;
          const r = await appendToRun(this.client.db, {
            runId,
            expectedSeq: state.lastSeq,
            state,
            events,
            writer: this.client.workerId,
          });
          // Not even the release could be written: write it once the database is back, so the run
          // is resumed then, not a threshold later (the journal still names us its owner).
          if (E.isLeft(r) && why._tag === 'DatabaseUnavailable') this.env.stranded.add(runId, pipeline);
        }
      }
      return E.left(why);
    }
    if (!this.claimed) return E.left(claimConflict);
    const now = await loadRunState(this.client.db, runId);
    if (E.isLeft(now)) return E.left(OrbitErrors.fenced(runId));
    if (now.right.status === 'cancelled') return E.right({ state: now.right, released: false });
    // Behind what we committed (not ahead: a writer that kept us owner, such as a peer's step.failed, fences us).
    if (now.right.status === 'running' && now.right.owner === this.client.workerId && now.right.lastSeq < (state?.lastSeq ?? 0)) {
      const handedBack = await this.handBack(now.right, pipeline);
      if (handedBack !== null) return E.right({ state: handedBack, released: true });
    }
    return E.left(OrbitErrors.fenced(runId));
  }

  /**
   * Our append was refused, yet the journal still names this process the owner of the running run:
   * nobody took it over; the journal lost transitions we had committed (a failover to a replica
   * that had not received them). We stopped executing it, so nobody would until the threshold
   * passed, and then as a takeover from a dead owner (an isolated process per recovering worker).
   * Hand it back at the seq the journal has: its NOTIFY has it resumed at once. Null when the
   * release could not be written (someone appended meanwhile, or the database is gone: the
   * threshold then applies as before).
   */
  private async handBack(state: RunState, pipeline: Pipeline): Promise<RunState | null> {
    const decision = decideNext(state, pipeline, {
      kind: 'tick',
      now: new Date(this.env.clock.nowMs()).toISOString(),
      worker: this.client.workerId,
      stopping: true,
      stopReason: `the journal lost transitions this worker had committed (at seq ${state.lastSeq}, a failover?); released to be resumed`,
    });
    if (E.isLeft(decision) || decision.right.next.kind !== 'released' || decision.right.events.length === 0) return null;
    const r = await appendToRun(this.client.db, {
      runId: this.runId,
      expectedSeq: state.lastSeq,
      state,
      events: decision.right.events,
      writer: this.client.workerId,
    });
    if (E.isLeft(r)) return null;
    this.state = r.right.state;
    return r.right.state;
  }

  /** The conflict to report when the fence fired while we were not writing. */
  conflict(): ConcurrencyConflict {
    return OrbitErrors.concurrencyConflict(this.runId, this.state?.lastSeq ?? 0, null);
  }
}
