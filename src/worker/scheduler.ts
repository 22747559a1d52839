import * as E from 'fp-ts/Either';
import { queueRunWith } from '../executor/queueRunWith';
import { parseCronSchedule, type CronSchedule } from '../pipeline/cronSchedule';
import type { DbFailure } from '../errors';
import {
  claimScheduleTick,
  deleteDefinitionSchedule,
  listSchedules,
  notifySchedulesChanged,
  upsertDefinitionSchedule,
  type ScheduleRow,
} from '../queries/schedules';
import type { WorkerContext } from './workerContext';
import { MAX_TIMER_MS, RETRY_MS } from './workerOptions';

/** A schedule first seen after the worker's start and created (or last ticked) this recently is new, not caught up. */
const NEW_SCHEDULE_MS = 60_000;

interface Armed {
  readonly row: ScheduleRow;
  readonly cron: CronSchedule;
  /** Ticks up to this time (database clock, ms) are done here; the next one is after it. */
  cursor: number;
}

/** The run id of a schedule's tick: the same on every worker, so a tick can never create two runs. */
export const scheduledRunId = (scheduleId: string, tickMs: number): string => `sched_${scheduleId}_${tickMs.toString(36)}`;

/**
 * Starts the runs of the schedules (sql/019) whose pipeline this worker has. It reads the
 * schedules and the database clock's now() once (and again when they change: NOTIFY
 * `schedule.changed`, a LISTEN reconnect), computes each next tick with croner, and arms one timer
 * for the earliest. At a tick every worker tries to record it (schedule_ticks, one row per tick);
 * only the one whose row was inserted queues the run, under a run id derived from the tick, in the
 * same transaction as the row. While
 * a worker runs it fires every tick after the last it saw, so none is skipped; a worker that starts
 * continues after the last recorded tick and applies the schedule's catch-up policy to the ticks
 * missed while no worker ran: `skip` them, or run the most recent one (`last`) once.
 */
export class Scheduler {
  private readonly armed = new Map<string, Armed>();
  /** Database clock minus the client's clock, at the last read. */
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The schedules were read once: a schedule seen later was added while this worker ran. */
  private loaded = false;
  /** The definitions' schedules were written (syncDefinitions). */
  private synced = false;

  constructor(private readonly ctx: WorkerContext) {}

  private get db() {
    return this.ctx.options.client.db;
  }

  private dbNow(): number {
    return this.ctx.options.client.clock.now() + this.offsetMs;
  }

  private serial(f: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.stopped ? undefined : f())).catch(() => undefined);
  }

  /** Re-reads the schedules (they changed, or notifications may have been missed). */
  reload(): void {
    this.serial(() => this.load());
  }

  /**
   * Keeps the schedules the registered pipelines' definitions carry (`definePipeline({ schedule })`)
   * in the database, once per worker start: upserted by pipeline name (workers starting together
   * write one row; a changed definition updates it in place), and removed when the definition this
   * worker has carries none. The last worker to start with a pipeline decides (docs/WORKER.md).
   */
  private async syncDefinitions(): Promise<E.Either<DbFailure, void>> {
    let changed = false;
    for (const p of this.ctx.options.client.registry.list()) {
      const s = p.schedule;
      const written =
        s === undefined
          ? await deleteDefinitionSchedule(this.db, p.name)
          : await upsertDefinitionSchedule(this.db, {
              pipelineId: p.name,
              cron: s.cron,
              timezone: s.timezone ?? 'UTC',
              metadata: s.metadata ?? {},
              catchUp: s.catchUp ?? 'skip',
            });
      if (E.isLeft(written)) return written;
      changed ||= written.right;
    }
    // The other workers re-read theirs (this one reads them next).
    if (changed) {
      const n = await notifySchedulesChanged(this.db);
      if (E.isLeft(n)) return n;
    }
    this.synced = true;
    return E.right(undefined);
  }

  private async load(): Promise<void> {
    const synced = this.synced ? E.right(undefined) : await this.syncDefinitions();
    if (E.isLeft(synced)) {
      this.ctx.emit({ kind: 'sweep-failed', error: synced.left, retryInMs: RETRY_MS });
      this.arm(RETRY_MS, () => this.reload());
      return;
    }
    const read = await listSchedules(this.db);
    if (E.isLeft(read)) {
      this.ctx.emit({ kind: 'sweep-failed', error: read.left, retryInMs: RETRY_MS });
      this.arm(RETRY_MS, () => this.reload());
      return;
    }
    const nowMs = read.right.now.getTime();
    this.offsetMs = nowMs - this.ctx.options.client.clock.now();
    const seen = new Set<string>();
    for (const row of read.right.schedules) {
      if (E.isLeft(this.ctx.options.client.registry.getPipeline(row.pipelineId))) continue;
      const cron = parseCronSchedule(row.cron, row.timezone);
      if (E.isLeft(cron)) continue;
      seen.add(row.id);
      const known = this.armed.get(row.id);
      if (known !== undefined) {
        this.armed.set(row.id, { ...known, row });
        continue;
      }
      // Added while this worker ran (it heard of it by NOTIFY, moments after): every tick since its
      // creation (or its last recorded tick) is due, none was missed.
      const from = (row.lastTick ?? row.createdAt).getTime();
      if (this.loaded && from >= nowMs - NEW_SCHEDULE_MS) {
        this.armed.set(row.id, { row, cron: cron.right, cursor: Math.min(from, nowMs) });
        continue;
      }
      // At the worker's start: continue after the last recorded tick. Ticks between it and now
      // were missed while no worker ran: the schedule's catch-up policy says what to do.
      const armed: Armed = { row, cron: cron.right, cursor: nowMs };
      this.armed.set(row.id, armed);
      if (row.catchUp === 'last') {
        const latest = cron.right.latest(nowMs);
        if (latest !== null && latest > from) await this.fire(armed, latest);
      }
    }
    this.loaded = true;
    for (const id of [...this.armed.keys()]) if (!seen.has(id)) this.armed.delete(id);
    await this.due();
  }

  /** Fires every tick that came (each at most once here), then arms the timer for the next. */
  private async due(): Promise<void> {
    let earliest: number | null = null;
    for (const a of this.armed.values()) {
      for (;;) {
        if (this.stopped) return;
        const next = a.cron.next(a.cursor);
        if (next === null) break;
        if (next > this.dbNow()) {
          earliest = earliest === null ? next : Math.min(earliest, next);
          break;
        }
        a.cursor = next;
        await this.fire(a, next);
      }
    }
    if (earliest !== null) this.arm(Math.max(1, earliest - this.dbNow()), () => this.serial(() => this.due()));
  }

  private async fire(a: Armed, tickMs: number): Promise<void> {
    const runId = scheduledRunId(a.row.id, tickMs);
    const tickAt = new Date(tickMs);
    const { client } = this.ctx.options;
    // The tick's row and its run commit together: a worker that dies between them leaves neither.
    const queued = await queueRunWith(
      client,
      a.row.pipelineId,
      a.row.metadata,
      { runId, triggeredBy: `schedule:${a.row.id}` },
      async (conn) => {
        const claimed = await claimScheduleTick(this.db, conn, a.row.id, tickAt, runId);
        // Crash tests (src/executor/faultPoints.ts): die holding the tick's row, before its run.
        if (E.isRight(claimed) && claimed.right && client.faultAfter === 'schedule.tick') process.kill(process.pid, 'SIGKILL');
        return claimed;
      },
    );
    if (E.isLeft(queued))
      this.ctx.emit({ kind: 'schedule-failed', scheduleId: a.row.id, tickAt: tickAt.toISOString(), detail: queued.left._tag });
    else if (queued.right === 'queued')
      this.ctx.emit({ kind: 'scheduled', scheduleId: a.row.id, tickAt: tickAt.toISOString(), runId });
  }

  private arm(ms: number, f: () => void): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        f();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }
}
