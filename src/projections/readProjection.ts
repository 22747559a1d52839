import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import type { JsonValue } from '../events/json';
import type { RunRow, StepRow } from '../fold/projectionRows';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** A `runs` row as `pg` returns it (timestamps as Date). */
export interface StoredRunRow extends Omit<RunRow, 'started_at' | 'finished_at' | 'last_event_at'> {
  started_at: Date;
  finished_at: Date | null;
  last_event_at: Date;
}

/** A `steps` row as `pg` returns it. */
export interface StoredStepRow extends Omit<StepRow, 'started_at' | 'finished_at' | 'next_retry_at' | 'result'> {
  started_at: Date | null;
  finished_at: Date | null;
  next_retry_at: Date | null;
  result: JsonValue | null;
}

export interface ProjectedRun {
  readonly run: RunRow;
  readonly steps: readonly StepRow[];
}

/** The projection rows of a run, normalised to the shape `toRunRow`/`toStepRow` produce. */
export const readProjectedRun = async (
  db: Database,
  runId: string,
  client?: PoolClient,
): Promise<E.Either<OrbitError, ProjectedRun | null>> => {
  const runs = await query<StoredRunRow>(client ?? db, `SELECT * FROM ${db.qs}.runs WHERE id = $1`, [runId]);
  if (E.isLeft(runs)) return runs;
  const raw = runs.right[0];
  if (raw === undefined) return E.right(null);
  const steps = await query<StoredStepRow>(client ?? db, `SELECT * FROM ${db.qs}.steps WHERE run_id = $1 ORDER BY step_index`, [
    runId,
  ]);
  if (E.isLeft(steps)) return steps;
  return E.right({
    run: {
      ...raw,
      started_at: raw.started_at.toISOString(),
      finished_at: iso(raw.finished_at),
      last_event_at: raw.last_event_at.toISOString(),
    },
    steps: steps.right.map((s) => ({
      ...s,
      started_at: iso(s.started_at),
      finished_at: iso(s.finished_at),
      next_retry_at: iso(s.next_retry_at),
    })),
  });
};
