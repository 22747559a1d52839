import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import type { RunRow, StepRow } from '../fold/projectionRows';
import { readRunRow } from '../queries/readRunRow';
import { readStepRows } from '../queries/readStepRows';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export interface ProjectedRun {
  readonly run: RunRow;
  readonly steps: readonly StepRow[];
}

/** The projection rows of a run, normalised to the shape `toRunRow`/`toStepRow` produce. */
export const readProjectedRun = async (
  db: Database,
  runId: string,
  client?: PoolClient,
): Promise<E.Either<DbFailure, ProjectedRun | null>> => {
  const runs = await readRunRow(db, runId, client);
  if (E.isLeft(runs)) return runs;
  const raw = runs.right[0];
  if (raw === undefined) return E.right(null);
  const steps = await readStepRows(db, runId, client);
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
