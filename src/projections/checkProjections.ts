import { isDeepStrictEqual } from 'node:util';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { withTransaction } from '../db/database';
import type { FoldFailure } from '../errors';
import type { RunState } from '../fold/runState';
import { loadRunState } from '../journal/loadRunState';
import { toRunRow, toStepRow } from '../fold/projectionRows';
import { listCreatedOrProjectedRunIds } from '../queries/listCreatedOrProjectedRunIds';
import { forEachPage } from '../util/forEachPage';
import type { ProjectionDifference, ProjectionReport } from './projectionReport';
import { readProjectedRun, type ProjectedRun } from './readProjection';

export type { ProjectionDifference, ProjectionReport } from './projectionReport';

/**
 * Compares one run's projection rows with the fold of its journal, field by field, both read in
 * one snapshot so that appends happening meanwhile cannot show up as false differences.
 */
export const diffRun = async (db: Database, runId: string): Promise<E.Either<FoldFailure, ProjectionDifference[]>> =>
  E.map((r: { differences: ProjectionDifference[] }) => r.differences)(await foldAndDiffRun(db, runId));

/**
 * The fold of a run's journal (null when it has no events) and how the projections differ from
 * it, from one snapshot and one replay: what recovery needs before it trusts a run.
 */
export const foldAndDiffRun = (
  db: Database,
  runId: string,
): Promise<E.Either<FoldFailure, { state: RunState | null; differences: ProjectionDifference[] }>> =>
  withTransaction(
    db,
    async (client): Promise<E.Either<FoldFailure, { state: RunState | null; differences: ProjectionDifference[] }>> => {
      const folded = await loadRunState(db, runId, client);
      const projected = await readProjectedRun(db, runId, client);
      if (E.isLeft(projected)) return projected;
      if (E.isLeft(folded)) {
        if (folded.left._tag !== 'RunNotFound') return E.left(folded.left);
        const orphan: ProjectionDifference[] =
          projected.right === null ? [] : [{ runId, field: 'runs', projected: 'row', folded: 'no events' }];
        return E.right({ state: null, differences: orphan });
      }
      return E.right({ state: folded.right, differences: projectionDifferences(folded.right, projected.right) });
    },
    { snapshot: true },
  );

/** How a run's projection rows differ from the fold of its journal (field by field). */
export const projectionDifferences = (state: RunState, projected: ProjectedRun | null): ProjectionDifference[] => {
  const out: ProjectionDifference[] = [];
  const runId = state.runId;
  if (projected === null) return [{ runId, field: 'runs', projected: 'no row', folded: 'row' }];
  const want = toRunRow(state);
  for (const [k, v] of Object.entries(want)) {
    const got = (projected.run as unknown as Record<string, unknown>)[k];
    if (!isDeepStrictEqual(got, v)) out.push({ runId, field: `runs.${k}`, projected: got, folded: v });
  }
  const byName = new Map(projected.steps.map((s) => [s.name, s]));
  for (const step of state.steps) {
    const row = byName.get(step.name);
    if (row === undefined) {
      out.push({ runId, field: `steps[${step.name}]`, projected: 'no row', folded: 'row' });
      continue;
    }
    byName.delete(step.name);
    for (const [k, v] of Object.entries(toStepRow(runId, step))) {
      const got = (row as unknown as Record<string, unknown>)[k];
      if (!isDeepStrictEqual(got, v)) out.push({ runId, field: `steps[${step.name}].${k}`, projected: got, folded: v });
    }
  }
  for (const extra of byName.keys()) out.push({ runId, field: `steps[${extra}]`, projected: 'row', folded: 'no step' });
  return out;
};

/**
 * Checks every run (or the given ones): fold(journal) must equal the projection tables.
 * Runs are visited in id order a page at a time, so memory stays flat on large journals.
 */
export const checkProjections = async (
  db: Database,
  runIds?: readonly string[],
): Promise<E.Either<FoldFailure, ProjectionReport>> => {
  const all: ProjectionDifference[] = [];
  let checked = 0;
  const visit = async (ids: readonly string[]): Promise<E.Either<FoldFailure, void>> => {
    for (const id of ids) {
      const d = await diffRun(db, id);
      if (E.isLeft(d)) return d;
      all.push(...d.right);
      checked += 1;
    }
    return E.right(undefined);
  };
  // Runs known to either side: journal (seq 1) or projection.
  const visited =
    runIds !== undefined
      ? await visit(runIds)
      : await forEachPage('', (after) => listCreatedOrProjectedRunIds(db, after, 500), visit);
  return E.map(() => ({ runsChecked: checked, differences: all }))(visited);
};
