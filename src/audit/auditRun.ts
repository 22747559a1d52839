import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { DbFailure, OrbitError } from '../errors';
import { formatError } from '../errors';
import { decodeEventRow } from '../events/decodeRow';
import { RunFold } from '../fold/runFold';
import type { RunState } from '../fold/runState';
import { projectionDifferences } from '../projections/checkProjections';
import { readProjectedRun } from '../projections/readProjection';
import { listStepNames } from '../queries/listStepNames';
import { readRunEventRows } from '../queries/readRunEventRows';
import { chainBreaks } from './chainBreaks';
import type { AuditProblem } from './problems';
import { isReused, reusedProvenanceProblems, type Reused } from './reusedProvenance';

/** A run's journal, checked event by event. */
export interface JournalAudit {
  readonly runId: string;
  /** Events in the journal (0: the run has none). */
  readonly eventCount: number;
  /** Every problem in the journal itself; empty when it verifies. */
  readonly problems: readonly AuditProblem[];
  /**
   * The fold of the longest prefix that verifies (hash chain intact, every event decodes and is
   * legal): the whole journal when `problems` is empty; null when not even `run.created` verifies.
   */
  readonly verifiedState: RunState | null;
  /** The last seq of that prefix (0 when none). */
  readonly verifiedThroughSeq: number;
  /** Its `step.reused` events that decode: claims about another run's journal, checked by auditRun. */
  readonly reused: readonly Reused[];
}

/**
 * Checks one run's journal: hash chain and seq order (in SQL), then decodes every event and folds
 * them, reporting each problem with its seq instead of stopping at the first. Once the fold meets
 * an illegal event it cannot go on meaningfully, so later events are only decoded.
 */
export const auditRunJournal = async (
  db: Database,
  runId: string,
  client?: PoolClient,
): Promise<E.Either<DbFailure, JournalAudit>> => {
  const breaks = await chainBreaks(db, [runId], client);
  if (E.isLeft(breaks)) return breaks;
  const rows = await readRunEventRows(db, runId, 0, client);
  if (E.isLeft(rows)) return rows;

  const problems: AuditProblem[] = [...breaks.right];
  const firstBreak = breaks.right.length === 0 ? Infinity : Math.min(...breaks.right.map((b) => b.seq ?? 0));
  const reportedSeqs = new Set(breaks.right.map((b) => b.seq));
  // One event at a time (an illegal one is reported at its seq), in a RunFold: linear in a long
  // run's steps. The verified state is the fold's as the intact prefix ends.
  const fold = new RunFold();
  let verifiedState: RunState | null = null;
  let verifiedThroughSeq = 0;
  let verifying = true;
  let folding = true;
  const reused: Reused[] = [];
  const prefixEnds = () => {
    if (!verifying) return;
    verifiedState = fold.state();
    verifying = false;
  };

  for (const row of rows.right) {
    const decoded = decodeEventRow(row);
    if (E.isRight(decoded) && isReused(decoded.right)) reused.push(decoded.right);
    if (E.isLeft(decoded)) {
      problems.push({ runId, seq: row.seq, kind: 'undecodable event', detail: detailOf(decoded.left) });
      prefixEnds();
      folding = false;
      continue;
    }
    if (!folding) continue;
    if (row.seq >= firstBreak) prefixEnds();
    const next = fold.push(decoded.right);
    if (E.isLeft(next)) {
      // A gap is already reported by the chain check; the fold's "expected seq" says the same.
      if (!reportedSeqs.has(row.seq)) {
        problems.push({ runId, seq: row.seq, kind: 'illegal event', detail: detailOf(next.left) });
      }
      // An illegal event changes nothing: the fold is the state before it.
      prefixEnds();
      folding = false;
      continue;
    }
    if (verifying) verifiedThroughSeq = row.seq;
  }
  prefixEnds();
  problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  return E.right({ runId, eventCount: rows.right.length, problems, verifiedState, verifiedThroughSeq, reused });
};

const detailOf = (e: OrbitError): string => {
  switch (e._tag) {
    case 'EventDecodeError':
      return `${e.type}: field ${e.field}: ${e.message}`;
    case 'IllegalTransition':
      return `${e.type}: ${e.reason}`;
    default:
      return formatError(e);
  }
};

/** `runs` columns fixed by run.created: comparable even when later events are missing. */
const FIXED_RUN_FIELDS: ReadonlySet<string> = new Set(
  ['id', 'pipeline_id', 'triggered_by', 'metadata', 'definition_hash', 'step_names', 'started_at'].map((c) => `runs.${c}`),
);

/** A run's journal and its projection rows, checked against each other. */
export interface RunAudit extends JournalAudit {
  /** Whether the projections hold a `runs` row for it. */
  readonly projected: boolean;
}

/**
 * Audits one run completely, in one snapshot: its journal, then its projection rows against the
 * fold of the journal. Projections are compared only with a journal that verifies: against a
 * broken journal every difference would be noise, and the projection may be the only intact copy.
 */
export const auditRun = async (db: Database, runId: string, client: PoolClient): Promise<E.Either<DbFailure, RunAudit>> => {
  const journal = await auditRunJournal(db, runId, client);
  if (E.isLeft(journal)) return journal;
  const projected = await readProjectedRun(db, runId, client);
  if (E.isLeft(projected)) return projected;
  const problems = [...journal.right.problems];
  const p = projected.right;

  if (journal.right.eventCount === 0) {
    if (p !== null) {
      problems.push({ runId, seq: null, kind: 'projection row extra', detail: 'runs row with no journal events behind it' });
    } else {
      const steps = await listStepNames(db, runId, client);
      if (E.isLeft(steps)) return steps;
      if (steps.right.length === 0) {
        problems.push({ runId, seq: null, kind: 'unknown run', detail: 'no journal events and no projection rows' });
      }
      for (const s of steps.right) {
        problems.push({
          runId,
          seq: null,
          kind: 'orphan step row',
          detail: `steps[${s.name}] has no runs row and no journal events`,
        });
      }
    }
  } else if (journal.right.verifiedState !== null) {
    const intact = journal.right.problems.length === 0;
    // Against a damaged journal only what its verified prefix has settled is compared: the fields
    // a run never changes after run.created and the steps that already succeeded (a success is
    // final). So tampering with the projections still shows beside a seq gap, without the noise
    // of every field the damage left unknown.
    const settled = new Set(journal.right.verifiedState.steps.filter((s) => s.status === 'success').map((s) => s.name));
    const compared = (field: string): boolean => {
      if (intact) return true;
      const step = /^steps\[(.*?)\]/.exec(field);
      return step === null ? FIXED_RUN_FIELDS.has(field) : settled.has(step[1] as string);
    };
    for (const d of projectionDifferences(journal.right.verifiedState, p).filter((x) => compared(x.field))) {
      const kind =
        d.projected === 'no row'
          ? 'projection row missing'
          : d.folded === 'no step'
            ? 'projection row extra'
            : 'projection differs';
      problems.push({
        runId,
        seq: null,
        kind,
        detail: `${d.field}: table has ${JSON.stringify(d.projected)}, journal says ${JSON.stringify(d.folded)}${
          intact ? '' : ` (settled by seq ${journal.right.verifiedThroughSeq}, before the damage)`
        }`,
      });
    }
  }
  // A forked run's reused results, checked against the journal they came from.
  const provenance = await reusedProvenanceProblems(db, journal.right.reused, client);
  if (E.isLeft(provenance)) return provenance;
  problems.push(...provenance.right);
  return E.right({ ...journal.right, problems, projected: p !== null });
};
