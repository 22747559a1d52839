import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { DbFailure } from '../errors';

/** What to do with ticks missed (CatchUp of src/pipeline/cronSchedule.ts; spelled out here, queries stay below pipeline). */
type CatchUp = 'skip' | 'last';

/** One row of `schedules` (sql/019), with the latest tick whose run was queued. */
export interface ScheduleRow {
  readonly id: string;
  readonly pipelineId: string;
  readonly cron: string;
  readonly timezone: string;
  readonly metadata: unknown;
  readonly catchUp: CatchUp;
  readonly createdAt: Date;
  readonly lastTick: Date | null;
  /** The pipeline whose definition carries this schedule (`definePipeline({ schedule })`); null when added. */
  readonly definitionOf: string | null;
}

interface RawSchedule {
  id: string;
  pipeline_id: string;
  cron: string;
  timezone: string;
  metadata: unknown;
  catch_up: string;
  created_at: Date;
  last_tick: Date | null;
  definition_of: string | null;
}

const toRow = (r: RawSchedule): ScheduleRow => ({
  id: String(r.id),
  pipelineId: r.pipeline_id,
  cron: r.cron,
  timezone: r.timezone,
  metadata: r.metadata,
  catchUp: r.catch_up === 'last' ? 'last' : 'skip',
  createdAt: r.created_at,
  lastTick: r.last_tick,
  definitionOf: r.definition_of,
});

/** Every schedule with its latest queued tick, and the database clock's now() read with them. */
export const listSchedules = async (
  db: Database,
): Promise<E.Either<DbFailure, { readonly schedules: ScheduleRow[]; readonly now: Date }>> => {
  const rs = await query<RawSchedule & { now: Date }>(
    db,
    `SELECT s.id::text AS id, s.pipeline_id, s.cron, s.timezone, s.metadata, s.catch_up, s.created_at, s.definition_of,
            (SELECT max(t.tick_at) FROM ${db.qs}.schedule_ticks t WHERE t.schedule_id = s.id) AS last_tick,
            now() AS now
       FROM ${db.qs}.schedules s ORDER BY s.id`,
  );
  if (E.isLeft(rs)) return rs;
  const now = rs.right[0]?.now ?? null;
  if (now === null) {
    const n = await query<{ now: Date }>(db, 'SELECT now() AS now');
    if (E.isLeft(n)) return n;
    return E.right({ schedules: [], now: (n.right[0] as { now: Date }).now });
  }
  return E.right({ schedules: rs.right.map(toRow), now });
};

/** Adds a schedule; returns its id. */
export const insertSchedule = async (
  db: Database,
  s: { pipelineId: string; cron: string; timezone: string; metadata: unknown; catchUp: CatchUp },
): Promise<E.Either<DbFailure, string>> =>
  E.map((rs: { id: string }[]) => (rs[0] as { id: string }).id)(
    await query<{ id: string }>(
      db,
      `INSERT INTO ${db.qs}.schedules (pipeline_id, cron, timezone, metadata, catch_up)
       VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id::text AS id`,
      [s.pipelineId, s.cron, s.timezone, JSON.stringify(s.metadata), s.catchUp],
    ),
  );

/**
 * Creates or updates the schedule a pipeline's definition carries (one per pipeline, keyed by
 * `definition_of`). True when a row was written: created, or changed (an unchanged definition
 * writes nothing, so many workers starting at once leave one row and no churn).
 */
export const upsertDefinitionSchedule = async (
  db: Database,
  s: { pipelineId: string; cron: string; timezone: string; metadata: unknown; catchUp: CatchUp },
): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: unknown[]) => rs.length > 0)(
    await query(
      db,
      `INSERT INTO ${db.qs}.schedules (pipeline_id, cron, timezone, metadata, catch_up, definition_of)
       VALUES ($1, $2, $3, $4::jsonb, $5, $1)
       ON CONFLICT (definition_of) WHERE definition_of IS NOT NULL DO UPDATE
          SET cron = EXCLUDED.cron, timezone = EXCLUDED.timezone, metadata = EXCLUDED.metadata, catch_up = EXCLUDED.catch_up
        WHERE (schedules.cron, schedules.timezone, schedules.metadata, schedules.catch_up)
              IS DISTINCT FROM (EXCLUDED.cron, EXCLUDED.timezone, EXCLUDED.metadata, EXCLUDED.catch_up)
       RETURNING id`,
      [s.pipelineId, s.cron, s.timezone, JSON.stringify(s.metadata), s.catchUp],
    ),
  );

/** Removes the schedule a pipeline's definition carried (it carries none any more); true when there was one. */
export const deleteDefinitionSchedule = async (db: Database, pipelineId: string): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: unknown[]) => rs.length > 0)(
    await query(db, `DELETE FROM ${db.qs}.schedules WHERE definition_of = $1 RETURNING id`, [pipelineId]),
  );

/** Removes a schedule (and its ticks); false when there was none with that id. */
export const deleteSchedule = async (db: Database, id: string): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: unknown[]) => rs.length > 0)(
    await query(db, `DELETE FROM ${db.qs}.schedules WHERE id = $1::bigint RETURNING id`, [id]),
  );

/**
 * Records that a tick's run is queued, on `conn` inside the transaction that queues it (so the row
 * never exists without its run). True only for the one caller whose row was inserted: every worker
 * reaching the same tick tries (a second one waits for the first one's transaction), exactly one
 * queues the run.
 */
export const claimScheduleTick = async (
  db: Database,
  conn: PoolClient,
  scheduleId: string,
  tickAt: Date,
  runId: string,
): Promise<E.Either<DbFailure, boolean>> =>
  E.map((rs: unknown[]) => rs.length > 0)(
    await query(
      conn,
      `INSERT INTO ${db.qs}.schedule_ticks (schedule_id, tick_at, run_id)
       SELECT $1::bigint, $2::timestamptz, $3 WHERE EXISTS (SELECT 1 FROM ${db.qs}.schedules WHERE id = $1::bigint)
       ON CONFLICT (schedule_id, tick_at) DO NOTHING RETURNING tick_at`,
      [scheduleId, tickAt.toISOString(), runId],
    ),
  );

/** Tells workers on the schema's channel that schedules changed (they re-read them). */
export const notifySchedulesChanged = (db: Database) =>
  query(db, `SELECT pg_notify($1, $2)`, [db.channel, JSON.stringify({ run_id: '', seq: 0, type: 'schedule.changed' })]);
