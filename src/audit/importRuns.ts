import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { withTransaction } from '../db/database';
import type { OrbitError } from '../errors';
import { toRunRow, toStepRow, type RunRow, type StepRow } from '../fold/projectionRows';
import { chainBreaks } from './chainBreaks';
import { describeProblem } from './problems';
import type { ExportReport } from './verifyExport';

export interface ImportReport {
  readonly runsImported: number;
  readonly eventsImported: number;
}

/**
 * Loads a verified export into this database's journal, with the exported hashes, and writes the
 * runs' projection rows, all in one transaction. Refused, with nothing written, when the export
 * has any problem, when a run already exists here, or when this database's `event_hash` does not
 * reproduce the exported chain.
 */
export const importRuns = (db: Database, exported: ExportReport): Promise<E.Either<OrbitError, ImportReport>> => {
  const first = exported.problems[0];
  if (first !== undefined) {
    return Promise.resolve(
      E.left({
        _tag: 'InvalidInput',
        what: 'export',
        message: `${exported.problems.length} problem(s), the first: ${describeProblem(first)}`,
      }),
    );
  }
  const ids = [...exported.runs.keys()];
  return withTransaction(db, async (client): Promise<E.Either<OrbitError, ImportReport>> => {
    const existing = await client.query<{ id: string }>(
      `SELECT run_id AS id FROM ${db.qs}.run_events WHERE run_id = ANY($1) AND seq = 1
       UNION SELECT id FROM ${db.qs}.runs WHERE id = ANY($1) ORDER BY 1 LIMIT 5`,
      [ids],
    );
    if (existing.rows.length > 0) {
      return E.left({
        _tag: 'InvalidInput',
        what: 'export',
        message: `run(s) already in this database: ${existing.rows.map((r) => r.id).join(', ')}`,
      });
    }
    let events = 0;
    const runRows: RunRow[] = [];
    const stepRows: StepRow[] = [];
    for (const [id, run] of exported.runs) {
      if (run.state === null) continue;
      events += run.events.length;
      // Batches keep each statement's parameter small on long histories.
      for (let i = 0; i < run.events.length; i += 1000) {
        await client.query(
          `INSERT INTO ${db.qs}.run_events (run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id, hash)
           SELECT x."runId", x.seq, x.type, x."stepName", x.attempt, x."payloadText"::jsonb, x."occurredAt", x.writer,
                  x."eventId", decode(x.hash, 'hex')
             FROM jsonb_to_recordset($1::jsonb) AS x("runId" text, seq int, type text, "stepName" text, attempt int,
                  "payloadText" text, "occurredAt" timestamptz, writer text, "eventId" uuid, hash text)`,
          [JSON.stringify(run.events.slice(i, i + 1000))],
        );
      }
      runRows.push(toRunRow(run.state));
      for (const s of run.state.steps) stepRows.push(toStepRow(id, s));
    }
    // The journal here must reproduce the chain (same hash function, same jsonb text).
    const breaks = await chainBreaks(db, ids, client);
    if (E.isLeft(breaks)) return breaks;
    const firstBreak = breaks.right[0];
    if (firstBreak !== undefined) {
      return E.left({
        _tag: 'InvalidInput',
        what: 'export',
        message: `refused, the chain does not verify here: ${describeProblem(firstBreak)}`,
      });
    }
    await client.query(`INSERT INTO ${db.qs}.runs SELECT * FROM jsonb_populate_recordset(NULL::${db.qs}.runs, $1::jsonb)`, [
      JSON.stringify(runRows),
    ]);
    await client.query(`INSERT INTO ${db.qs}.steps SELECT * FROM jsonb_populate_recordset(NULL::${db.qs}.steps, $1::jsonb)`, [
      JSON.stringify(stepRows),
    ]);
    return E.right({ runsImported: runRows.length, eventsImported: events });
  });
};
