/**
 * Schedules kept in the database (docs/WORKER.md "Schedules", `orbit schedule add|list|remove`):
 * a pipeline queued on each tick of a cron expression in a time zone. Workers that have the
 * pipeline start each tick's run exactly once (src/worker/scheduler.ts).
 */
import * as E from 'fp-ts/Either';
import type { DbFailure, InvalidInput, PipelineNotFound } from '../errors';
import { checkSchedule, parseCronSchedule, type CatchUp, type ScheduleOptions } from '../pipeline/cronSchedule';
import {
  deleteSchedule,
  insertSchedule,
  listSchedules as readSchedules,
  notifySchedulesChanged,
  type ScheduleRow,
} from '../queries/schedules';
import type { OrbitClient } from '../runtime/orbitClient';

export type { CatchUp } from '../pipeline/cronSchedule';

/** A schedule as listed, with its next tick (null when the expression has no further tick). */
export interface Schedule {
  readonly id: string;
  readonly pipeline: string;
  readonly cron: string;
  readonly timezone: string;
  readonly metadata: unknown;
  readonly catchUp: CatchUp;
  readonly createdAt: string;
  /** The latest tick whose run was queued. */
  readonly lastTick: string | null;
  readonly nextTick: string | null;
  /**
   * Where it comes from: `definition` (the pipeline's `definePipeline({ schedule })`, kept by the
   * workers that register it) or `added` (`addSchedule`, `orbit schedule add`).
   */
  readonly source: 'definition' | 'added';
}

export type { ScheduleOptions } from '../pipeline/cronSchedule';

/** Adds a schedule; workers re-read their schedules at once (NOTIFY). Returns its id. */
export const addSchedule = async (
  client: OrbitClient,
  pipeline: string,
  cron: string,
  options: ScheduleOptions = {},
): Promise<E.Either<InvalidInput | PipelineNotFound | DbFailure, string>> => {
  const checked = checkSchedule(pipeline, cron, options);
  if (E.isLeft(checked)) return checked;
  // A schedule of a pipeline no one can run would queue runs that wait for ever: the caller must
  // have the definition, as for enqueueRun.
  const known = client.registry.getPipeline(pipeline);
  if (E.isLeft(known)) return known;
  const id = await insertSchedule(client.db, {
    pipelineId: pipeline,
    cron,
    timezone: options.timezone ?? 'UTC',
    metadata: options.metadata ?? {},
    catchUp: options.catchUp ?? 'skip',
  });
  if (E.isLeft(id)) return id;
  await notifySchedulesChanged(client.db);
  return id;
};

const toSchedule = (r: ScheduleRow, nowMs: number): Schedule => {
  const cron = parseCronSchedule(r.cron, r.timezone);
  const next = E.isRight(cron) ? cron.right.next(nowMs) : null;
  return {
    id: r.id,
    pipeline: r.pipelineId,
    cron: r.cron,
    timezone: r.timezone,
    metadata: r.metadata,
    catchUp: r.catchUp,
    createdAt: r.createdAt.toISOString(),
    lastTick: r.lastTick?.toISOString() ?? null,
    nextTick: next === null ? null : new Date(next).toISOString(),
    source: r.definitionOf === null ? 'added' : 'definition',
  };
};

/** Every schedule, oldest first, with its last and next tick (database clock). */
export const listSchedules = async (client: OrbitClient): Promise<E.Either<DbFailure, Schedule[]>> => {
  const read = await readSchedules(client.db);
  if (E.isLeft(read)) return read;
  return E.right(read.right.schedules.map((r) => toSchedule(r, read.right.now.getTime())));
};

/**
 * Removes a schedule (no run is queued for it any more; runs already queued stay). A schedule from
 * a definition comes back when a worker with that definition starts: remove it from the definition.
 */
export const removeSchedule = async (client: OrbitClient, id: string): Promise<E.Either<InvalidInput | DbFailure, void>> => {
  if (!/^\d{1,18}$/.test(id))
    return E.left({
      _tag: 'InvalidInput',
      what: 'schedule id',
      message: `${JSON.stringify(id)} is not a schedule id (a number, see orbit schedule list)`,
    });
  const removed = await deleteSchedule(client.db, id);
  if (E.isLeft(removed)) return removed;
  if (!removed.right)
    return E.left({ _tag: 'InvalidInput', what: 'schedule id', message: `no schedule ${id} (see orbit schedule list)` });
  await notifySchedulesChanged(client.db);
  return E.right(undefined);
};
