import * as E from 'fp-ts/Either';
import { isDeepStrictEqual } from 'node:util';
import { decodeEventRow } from '../events/decodeRow';
import { foldEvents } from '../fold/evolve';
import type { RunState } from '../fold/runState';
import { formatError } from '../errors';
import { eventHashHex, ExportedEvent, toEventRow } from './exportFormat';
import type { AuditProblem } from './problems';

export interface ExportReport {
  readonly runsChecked: number;
  readonly eventsChecked: number;
  readonly problems: readonly AuditProblem[];
  readonly brokenRuns: readonly string[];
  /** The runs read, with their events and the fold of each (only with `keep`), for an import. */
  readonly runs: ReadonlyMap<string, { readonly events: readonly ExportedEvent[]; readonly state: RunState | null }>;
}

interface RunCursor {
  readonly runId: string;
  expectedSeq: number;
  prevHash: string | null;
  state: RunState | null;
  folding: boolean;
  events: ExportedEvent[];
}

/**
 * Checks an export with no database: every line decodes, each run's events are together and
 * start at seq 1 without gaps, every hash matches its event and its predecessor (recomputed here,
 * exactly as the journal computes it), and the events fold legally. Every problem is reported.
 */
export const verifyExport = async (lines: AsyncIterable<string>, opts: { keep?: boolean } = {}): Promise<ExportReport> => {
  const problems: AuditProblem[] = [];
  const runs = new Map<string, { events: readonly ExportedEvent[]; state: RunState | null }>();
  const seenRuns = new Set<string>();
  let cur: RunCursor | null = null;
  let lineNo = 0;
  let events = 0;
  const finish = () => {
    if (cur !== null) runs.set(cur.runId, { events: opts.keep === true ? cur.events : [], state: cur.state });
  };

  for await (const raw of lines) {
    lineNo += 1;
    if (raw.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      problems.push({ runId: '?', seq: null, kind: 'malformed export line', detail: `line ${lineNo} is not JSON` });
      continue;
    }
    const decoded = ExportedEvent.decode(parsed);
    if (E.isLeft(decoded)) {
      problems.push({ runId: '?', seq: null, kind: 'malformed export line', detail: `line ${lineNo} is not an exported event` });
      continue;
    }
    const e = decoded.right;
    events += 1;
    if (cur === null || cur.runId !== e.runId) {
      finish();
      if (seenRuns.has(e.runId)) {
        problems.push({
          runId: e.runId,
          seq: e.seq,
          kind: 'malformed export line',
          detail: `line ${lineNo}: the run's events are not together`,
        });
      }
      seenRuns.add(e.runId);
      cur = { runId: e.runId, expectedSeq: 1, prevHash: null, state: null, folding: true, events: [] };
    }
    const problem = (kind: AuditProblem['kind'], detail: string) => problems.push({ runId: e.runId, seq: e.seq, kind, detail });
    if (e.seq !== cur.expectedSeq) {
      problem(
        'seq gap',
        e.seq - cur.expectedSeq === 1 ? `seq ${cur.expectedSeq} is missing` : `seqs ${cur.expectedSeq}..${e.seq - 1} are missing`,
      );
    } else if (eventHashHex(cur.prevHash, e) !== e.hash) {
      problem('hash mismatch', 'the hash does not match the event and its predecessor (changed after it was written)');
    } else if (!isDeepStrictEqual(JSON.parse(e.payloadText), e.payload)) {
      problem('hash mismatch', 'payload differs from payloadText, the text the hash covers');
    }
    cur.expectedSeq = e.seq + 1;
    cur.prevHash = e.hash;
    if (opts.keep === true) cur.events.push(e);
    const row = decodeEventRow(toEventRow(e));
    if (E.isLeft(row)) {
      problem('undecodable event', formatError(row.left));
      cur.folding = false;
      continue;
    }
    if (!cur.folding) continue;
    const next = foldEvents(cur.state, [row.right]);
    if (E.isLeft(next)) {
      if (!(next.left._tag === 'IllegalTransition' && problems.some((p) => p.runId === e.runId && p.seq === e.seq))) {
        problem('illegal event', formatError(next.left));
      }
      cur.folding = false;
      continue;
    }
    cur.state = next.right;
  }
  finish();
  const brokenRuns = [...new Set(problems.map((p) => p.runId))].filter((id) => id !== '?');
  return { runsChecked: runs.size, eventsChecked: events, problems, brokenRuns, runs };
};
