import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import type { RunStatus } from '../fold/runState';
import { countRunsByStatus } from '../queries/countRunsByStatus';
import { listRunPage } from '../queries/listRunPage';
import { searchTerms } from './searchTerms';
import type { RunCounts, RunPage, RunPageEntry, SearchRunsOptions } from './runPage';
import { decodeSuspendedOn } from './suspendedOn';

/** The cursor: the last run's (started_at as PostgreSQL prints it, id), base64url of JSON. */
const encodeCursor = (startedKey: string, id: string): string =>
  Buffer.from(JSON.stringify([startedKey, id])).toString('base64url');

/** Null for a cursor this function did not make (then the first page is read). */
export const decodeCursor = (cursor: string): readonly [string, string] | null => {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' ? [v[0], v[1]] : null;
  } catch {
    return null;
  }
};

/** One page of runs, newest first, with a keyset cursor for the next one. */
export const searchRuns = async (db: Database, opts: SearchRunsOptions): Promise<E.Either<DbFailure, RunPage>> => {
  const limit = Math.max(1, Math.min(opts.limit ?? 50, 1000));
  const cursor = opts.after === undefined ? null : decodeCursor(opts.after);
  const text = opts.search?.trim() ?? '';
  const search = text === '' ? null : searchTerms(text);
  // A search nothing can match (see searchTerms): an empty page, without asking the server.
  if (text !== '' && search === null) return E.right({ runs: [], next: null });
  const rows = await listRunPage(db, {
    status: opts.status ?? null,
    pipelineId: opts.pipelineId ?? null,
    search,
    beforeStartedAt: cursor?.[0] ?? null,
    beforeId: cursor?.[1] ?? null,
    // One more than asked: whether there is a next page, without counting.
    limit: limit + 1,
  });
  if (E.isLeft(rows)) return rows;
  const page = rows.right.slice(0, limit);
  const last = page[page.length - 1];
  const runs: RunPageEntry[] = [];
  for (const r of page) {
    const suspended = decodeSuspendedOn(r.id, r.suspended);
    if (E.isLeft(suspended)) return suspended;
    runs.push({
      runId: r.id,
      pipelineId: r.pipeline_id,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      stepsSucceeded: r.succeeded,
      stepsTotal: r.total,
      error: r.error,
      owner: r.owner,
      lastEventAt: r.last_event_at.toISOString(),
      metadata: r.metadata,
      recoveryCount: r.recovery_count,
      ...(suspended.right !== undefined ? { suspended: suspended.right } : {}),
    });
  }
  return E.right({
    runs,
    next: rows.right.length > limit && last !== undefined ? encodeCursor(last.started_key, last.id) : null,
  });
};

const STATUSES: readonly RunStatus[] = ['pending', 'running', 'sleeping', 'waiting', 'success', 'failed', 'cancelled'];

/** Runs per status, each counted up to `cap` (bounded cost at any table size). */
export const countRuns = async (
  db: Database,
  pipelineId: string | null,
  cap: number,
): Promise<E.Either<DbFailure, RunCounts>> => {
  const rows = await countRunsByStatus(db, pipelineId, cap);
  if (E.isLeft(rows)) return rows;
  const counts = Object.fromEntries(STATUSES.map((s) => [s, rows.right.find((r) => r.status === s)?.n ?? 0])) as Record<
    RunStatus,
    number
  >;
  return E.right({ counts, cap, capped: STATUSES.filter((s) => counts[s] > cap) });
};
