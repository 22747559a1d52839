import * as E from 'fp-ts/Either';
import { decideNext } from '../decide/decideNext';
import { formatError, type OrbitError } from '../errors';
import { isFinished } from '../fold/runState';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import type { Pipeline } from '../pipeline/types';
import type { OrbitClient } from '../runtime/orbitClient';

/** The first look after a run was given up, and the longest wait between two looks. */
const FIRST_LOOK_MS = 500;
const MAX_WAIT_MS = 2_000;

type Look = 'done' | 'again';

/**
 * Runs this process gave up because the database could not be reached: it could write neither
 * their progress nor their `run.released`, so the journal still names this process as their
 * owner, and while the process lives (its lease renewed again once the database is back, no longer
 * covering them) nothing but the threshold would let anyone resume them. So the release is
 * written later: each run is looked at again until the database answers; then, if the run is
 * still unfinished, still ours and not executed here again, `run.released` is appended (seq
 * fenced, from the state as now journaled), and its NOTIFY has a recovery worker (this process's
 * own, if it is one) resume it at once instead of up to a threshold later.
 *
 * Timers do not hold the process: a one-off command that ends leaves its runs to the threshold
 * (or to `orbit resume`), as before. Stops when the client closes.
 */
export class StrandedRuns {
  private readonly runs = new Map<string, Pipeline>();
  private timer: NodeJS.Timeout | undefined;
  private looking = false;
  private waitMs = FIRST_LOOK_MS;
  private stopped = false;

  constructor(
    private readonly client: OrbitClient,
    /** Whether this process executes the run again (a resume here since): then it is no longer stranded. */
    private readonly executing: (runId: string) => boolean,
  ) {}

  /** How many runs wait for their release to be written. */
  get size(): number {
    return this.runs.size;
  }

  /** A run given up for lack of a database: release it once the database answers. */
  add(runId: string, pipeline: Pipeline): void {
    if (this.stopped) return;
    this.runs.set(runId, pipeline);
    this.client.logger.warn(`run ${runId}: given up without a database; it is released as soon as the database answers again`);
    this.waitMs = FIRST_LOOK_MS;
    this.arm();
  }

  /** Whether the run waits here for its release (kept until that release is written). */
  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** The run is executed here again (or otherwise settled): nothing more to write for it. */
  forget(runId: string): void {
    this.runs.delete(runId);
  }

  stop(): void {
    this.stopped = true;
    this.runs.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined || this.looking || this.stopped || this.runs.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.lookAll();
    }, this.waitMs);
    this.timer.unref();
  }

  private async lookAll(): Promise<void> {
    this.looking = true;
    let unreachable = false;
    try {
      for (const [runId, pipeline] of [...this.runs]) {
        if (this.stopped) return;
        // While the database is away, one look (its transient retries included) says so for all.
        if (unreachable) break;
        const r = await this.look(runId, pipeline).catch((): Look | 'unreachable' => 'unreachable');
        if (r === 'done') this.runs.delete(runId);
        else if (r === 'unreachable') unreachable = true;
      }
    } finally {
      this.looking = false;
    }
    this.waitMs = unreachable ? Math.min(MAX_WAIT_MS, this.waitMs * 2) : FIRST_LOOK_MS;
    this.arm();
  }

  private async look(runId: string, pipeline: Pipeline): Promise<Look | 'unreachable'> {
    const { client } = this;
    if (this.executing(runId)) return 'done';
    const now = await loadRunState(client.db, runId);
    if (E.isLeft(now)) return this.settledBy(runId, now.left);
    const state = now.right;
    // Finished, released, or taken over by someone: not ours to hand back any more.
    if (isFinished(state) || state.owner !== client.workerId || this.executing(runId)) return 'done';
    const release = decideNext(state, pipeline, {
      kind: 'journalRefused',
      unreachable: true,
      message: 'cannot reach the database',
      worker: client.workerId,
      stopping: false,
    });
    if (E.isLeft(release) || release.right.events.length === 0) return 'done';
    const written = await appendToRun(client.db, {
      runId,
      expectedSeq: state.lastSeq,
      state,
      events: release.right.events,
      writer: client.workerId,
    });
    if (E.isRight(written)) {
      client.logger.info(`run ${runId}: released after the database came back (it was given up during the outage)`);
      return 'done';
    }
    // Someone appended in between: look again (the next look sees who).
    if (written.left._tag === 'ConcurrencyConflict') return 'again';
    return this.settledBy(runId, written.left);
  }

  /** A failure to look: the database still away (look again later), or one that looking again will not change. */
  private settledBy(runId: string, e: OrbitError): 'done' | 'unreachable' {
    if (e._tag === 'DatabaseUnavailable') return 'unreachable';
    if (e._tag !== 'RunNotFound') this.client.logger.warn(`run ${runId}: its release could not be written: ${formatError(e)}`);
    return 'done';
  }
}
