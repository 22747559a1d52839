import * as E from 'fp-ts/Either';
import { isDeepStrictEqual } from 'node:util';
import { decodeEventRow } from '../events/decodeRow';
import { RunFold } from '../fold/runFold';
import type { RunState } from '../fold/runState';
import { formatError } from '../errors';
import { eventHashHex, ExportedEvent, toEventRow } from './exportFormat';
import { ExportManifest } from './exportManifest';
import { checkCheckpointFile } from './checkpoint';
import type { Checkpoint } from './checkpointFormat';
import type { AuditProblem } from './problems';

export interface ExportReport {
  readonly runsChecked: number;
  readonly eventsChecked: number;
  readonly problems: readonly AuditProblem[];
  readonly brokenRuns: readonly string[];
  /** The runs read, with their events and the fold of each (only with `keep`), for an import. */
  readonly runs: ReadonlyMap<string, { readonly events: readonly ExportedEvent[]; readonly state: RunState | null }>;
  /** The export's manifest, when its last line holds one. */
  readonly manifest: ExportManifest | null;
}

export interface VerifyExportOptions {
  /** Keep every run's events and fold (for an import). */
  readonly keep?: boolean;
  /** A missing manifest is a problem (`orbit export` always writes one; `verify --file` and `import` require it). */
  readonly requireManifest?: boolean;
  /** Check the export against this checkpoint too: the runs it lists must have its head hashes. */
  readonly checkpoint?: { readonly file: Checkpoint; readonly key?: Uint8Array; readonly trustUnsigned?: boolean };
}

interface RunCursor {
  readonly runId: string;
  expectedSeq: number;
  prevHash: string | null;
  /** The run's fold, one event at a time (a RunFold: linear in a long run's steps). */
  readonly fold: RunFold;
  folding: boolean;
  events: ExportedEvent[];
}

/**
 * Checks an export with no database: every line decodes, each run's events are together and
 * start at seq 1 without gaps, every hash matches its event and its predecessor (recomputed here,
 * exactly as the journal computes it), and the events fold legally. Every problem is reported.
 */
export const verifyExport = async (lines: AsyncIterable<string>, opts: VerifyExportOptions = {}): Promise<ExportReport> => {
  const problems: AuditProblem[] = [];
  const heads = new Map<string, { events: number; lastSeq: number; headHash: string }>();
  const cp = opts.checkpoint;
  const cpRuns = new Map((cp?.file.runs ?? []).map((r) => [r.runId, r]));
  const cpSeen = new Set<string>();
  let manifest: ExportManifest | null = null;
  let manifestLine = 0;
  const runs = new Map<string, { events: readonly ExportedEvent[]; state: RunState | null }>();
  const seenRuns = new Set<string>();
  let cur: RunCursor | null = null;
  let lineNo = 0;
  let events = 0;
  // Without `keep` nothing per run is held after its last event: an archive of a million runs
  // verifies in the memory of one run (plus the manifest's heads), not of every fold.
  const finish = () => {
    if (cur !== null && opts.keep === true) runs.set(cur.runId, { events: cur.events, state: cur.fold.state() });
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
    if (manifest !== null) {
      problems.push({ runId: '?', seq: null, kind: 'malformed export line', detail: `line ${lineNo} follows the manifest` });
      continue;
    }
    const m = ExportManifest.decode(parsed);
    if (E.isRight(m)) {
      manifest = m.right;
      manifestLine = lineNo;
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
      cur = { runId: e.runId, expectedSeq: 1, prevHash: null, fold: new RunFold(), folding: true, events: [] };
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
    heads.set(e.runId, { events: (heads.get(e.runId)?.events ?? 0) + 1, lastSeq: e.seq, headHash: e.hash });
    const atCheckpoint = cpRuns.get(e.runId);
    if (atCheckpoint !== undefined && atCheckpoint.lastSeq === e.seq) {
      cpSeen.add(e.runId);
      if (atCheckpoint.headHash !== e.hash) {
        problem(
          'events rewritten',
          `head hash at seq ${e.seq} was ${atCheckpoint.headHash.slice(0, 16)}… at the checkpoint, is ${e.hash.slice(0, 16)}…`,
        );
      }
    }
    if (opts.keep === true) cur.events.push(e);
    const row = decodeEventRow(toEventRow(e));
    if (E.isLeft(row)) {
      problem('undecodable event', formatError(row.left));
      cur.folding = false;
      continue;
    }
    if (!cur.folding) continue;
    const next = cur.fold.push(row.right);
    if (E.isLeft(next)) {
      if (!(next.left._tag === 'IllegalTransition' && problems.some((p) => p.runId === e.runId && p.seq === e.seq))) {
        problem('illegal event', formatError(next.left));
      }
      cur.folding = false;
      continue;
    }
  }
  finish();
  if (manifest !== null || opts.requireManifest === true) problems.push(...manifestProblems(manifest, manifestLine, heads));
  if (cp !== undefined) {
    problems.push(
      ...checkCheckpointFile(cp.file, {
        key: cp.key === undefined ? undefined : Buffer.from(cp.key),
        trustUnsigned: cp.trustUnsigned,
      }),
    );
    const complete = manifest !== null && manifest.selection.all && manifest.selection.since === null;
    for (const r of cp.file.runs) {
      if (cpSeen.has(r.runId)) continue;
      const here = heads.get(r.runId);
      if (here !== undefined) {
        problems.push({
          runId: r.runId,
          seq: r.lastSeq,
          kind: 'event deleted',
          detail: `the checkpoint saw seq 1..${r.lastSeq}; the export ends at seq ${here.lastSeq}`,
        });
      } else if (complete) {
        // An export of every run must hold every run the checkpoint saw.
        problems.push({
          runId: r.runId,
          seq: null,
          kind: 'run deleted',
          detail: `had ${r.lastSeq} event(s) at the checkpoint; none in the export`,
        });
      }
    }
  }
  const brokenRuns = [...new Set(problems.map((p) => p.runId))].filter((id) => id !== '?');
  return { runsChecked: seenRuns.size, eventsChecked: events, problems, brokenRuns, runs, manifest };
};

/** What the file holds against what its manifest says it should. */
const manifestProblems = (
  manifest: ExportManifest | null,
  line: number,
  heads: ReadonlyMap<string, { events: number; lastSeq: number; headHash: string }>,
): AuditProblem[] => {
  if (manifest === null) {
    return [
      {
        runId: '?',
        seq: null,
        kind: 'export incomplete',
        detail:
          heads.size === 0
            ? 'the file holds no events and no manifest'
            : 'no manifest at its end: the file was cut short (or written by an Orbit older than 0.2)',
      },
    ];
  }
  const out: AuditProblem[] = [];
  const listed = new Set<string>();
  for (const r of manifest.runs) {
    listed.add(r.runId);
    const here = heads.get(r.runId);
    if (here === undefined) {
      out.push({
        runId: r.runId,
        seq: null,
        kind: 'export incomplete',
        detail: `the manifest lists ${r.events} event(s); none in the file`,
      });
    } else if (here.events !== r.events || here.lastSeq !== r.lastSeq || here.headHash !== r.headHash) {
      out.push({
        runId: r.runId,
        seq: here.lastSeq,
        kind: 'export incomplete',
        detail: `the manifest lists ${r.events} event(s) ending at seq ${r.lastSeq} (${r.headHash.slice(0, 16)}…); the file has ${here.events} ending at seq ${here.lastSeq} (${here.headHash.slice(0, 16)}…)`,
      });
    }
  }
  for (const id of heads.keys()) {
    if (!listed.has(id)) {
      out.push({ runId: id, seq: null, kind: 'export incomplete', detail: `in the file but not in its manifest (line ${line})` });
    }
  }
  return out;
};
