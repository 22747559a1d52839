import { createReadStream, createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { OrbitError } from '../errors';
import { checkpointOf } from '../audit/checkpoint';
import { ManifestBuilder, type ExportManifest } from '../audit/exportManifest';
import { exportBatch } from '../audit/exportRuns';
import { describeProblem } from '../audit/problems';
import { verifyExport } from '../audit/verifyExport';
import { addPartitionsAhead } from '../journal/partitionsAhead';
import { canRemoveArchivedRuns } from '../queries/canRemoveArchivedRuns';
import { listArchivableRuns, type ArchivableRun } from '../queries/listArchivableRuns';
import { readDatabaseNow } from '../queries/readDatabaseNow';
import { removeArchivedRuns } from '../queries/removeArchivedRuns';
import {
  CHECKPOINT_FILE,
  manifestDigest,
  partialPath,
  prepareDirectory,
  readProgress,
  RUNS_FILE,
  writeFileAtomically,
  writeProgress,
  type ArchiveProgress,
} from './archiveFiles';
import { dropArchivedPartitions, type DroppedPartition } from './dropArchivedPartitions';

/** Which runs: finished before a time, or before a duration ago on the database's clock. */
export type FinishedBefore = { readonly agoMs: number } | { readonly at: Date };

export interface ArchiveOptions {
  readonly finishedBefore: FinishedBefore;
  /** The archive directory: created if needed; an unfinished archive in it is resumed. */
  readonly dir: string;
  /** Signs the archive's checkpoint (HMAC-SHA256), as `orbit checkpoint` does. */
  readonly key?: Buffer;
  /** Events removed per transaction (a run is never split). Default 5000. */
  readonly batchEvents?: number;
  /** Told after each removal batch has committed (progress output; crash tests kill the process here). */
  readonly onBatch?: (p: ArchiveProgress) => void;
}

export interface ArchivePlan {
  readonly finishedBefore: Date;
  readonly runs: number;
  readonly events: number;
}

export interface ArchiveReport extends ArchivePlan {
  readonly dir: string;
  readonly manifestDigest: string;
  /** An unfinished archive found in the directory was carried on. */
  readonly resumed: boolean;
  readonly removedRuns: number;
  readonly removedEvents: number;
  /** Runs that changed after they were exported (resumed, or not finished any more): left in the journal. */
  readonly changed: readonly string[];
  readonly bytes: number;
  /** Monthly journal partitions dropped whole, their runs all archived (the rest went row by row). */
  readonly droppedPartitions: readonly DroppedPartition[];
}

const PAGE = 1000;
export const DEFAULT_BATCH_EVENTS = 5000;

const cutoff = async (db: Database, f: FinishedBefore): Promise<E.Either<OrbitError, Date>> => {
  if ('at' in f) return E.right(f.at);
  const now = await readDatabaseNow(db);
  return E.map((n: Date) => new Date(n.getTime() - f.agoMs))(now);
};

/** Every run the archive takes, a page at a time in id order (one id and event count each). */
async function* archivableRuns(db: Database, before: Date): AsyncGenerator<E.Either<OrbitError, ArchivableRun[]>> {
  let after = '';
  for (;;) {
    const page = await listArchivableRuns(db, before, after, PAGE);
    if (E.isLeft(page)) {
      yield page;
      return;
    }
    const last = page.right[page.right.length - 1];
    if (last === undefined) return;
    yield E.right(page.right);
    if (page.right.length < PAGE) return;
    after = last.id;
  }
}

/** What an archive would take, without writing or removing anything (`--dry-run`). */
export const planArchive = async (db: Database, f: FinishedBefore): Promise<E.Either<OrbitError, ArchivePlan>> => {
  const before = await cutoff(db, f);
  if (E.isLeft(before)) return before;
  let runs = 0;
  let events = 0;
  for await (const page of archivableRuns(db, before.right)) {
    if (E.isLeft(page)) return page;
    runs += page.right.length;
    events += page.right.reduce((n, r) => n + r.last_seq, 0);
  }
  return E.right({ finishedBefore: before.right, runs, events });
};

const write = (out: WriteStream, text: string): Promise<void> =>
  out.write(text) ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve()));

const close = (out: WriteStream): Promise<void> =>
  new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });

/**
 * Writes the journals of the runs finished before `before` to `file` (then renamed in place
 * whole), ending with the manifest line: runs a page at a time (PAGE ids), their events in pages
 * (exportBatch), written with backpressure. What stays in memory grows only with the manifest
 * (one entry per run). Null when there is no such run (nothing written).
 */
const writeExport = async (
  db: Database,
  before: Date,
  file: string,
): Promise<E.Either<OrbitError, { manifest: ExportManifest; line: string } | null>> => {
  const tmp = partialPath(file);
  const out = createWriteStream(tmp, { encoding: 'utf8', mode: 0o600 });
  const manifest = new ManifestBuilder({ all: false, since: null });
  let line: string;
  let closed = false;
  try {
    for await (const runs of archivableRuns(db, before)) {
      if (E.isLeft(runs)) return runs;
      for await (const page of exportBatch(
        db,
        runs.right.map((r) => r.id),
        true,
      )) {
        if (E.isLeft(page)) return page;
        manifest.add(page.right);
        await write(out, page.right.map((e) => `${JSON.stringify(e)}\n`).join(''));
      }
    }
    if (manifest.runCount === 0) return E.right(null);
    line = JSON.stringify(manifest.manifest());
    await write(out, `${line}\n`);
    await close(out);
    closed = true;
  } finally {
    // Not closed: an error, or nothing to archive (the partial file goes).
    if (!closed) {
      out.destroy();
      await fs.rm(tmp, { force: true });
    }
  }
  const h = await fs.open(tmp, 'r+');
  await h.sync().finally(() => h.close());
  await fs.rename(tmp, file);
  return E.right({ manifest: manifest.manifest(), line });
};

const lines = (file: string): AsyncIterable<string> =>
  createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });

/** The file's last line: its manifest, exactly as written. */
const lastLine = async (file: string): Promise<string> => {
  let last = '';
  for await (const l of lines(file)) if (l !== '') last = l;
  return last;
};

/** Reads back the export and its checkpoint: it must verify, or nothing is removed. */
const verifyWritten = async (
  file: string,
  checkpoint: ReturnType<typeof checkpointOf>,
  key: Buffer | undefined,
): Promise<E.Either<OrbitError, ExportManifest>> => {
  const report = await verifyExport(lines(file), {
    requireManifest: true,
    checkpoint: { file: checkpoint, key, trustUnsigned: true },
  });
  const first = report.problems[0];
  if (first !== undefined || report.manifest === null) {
    return E.left({
      _tag: 'InvalidInput',
      what: 'archive',
      message: `${file} does not verify (${first === undefined ? 'no manifest' : describeProblem(first)}): nothing was removed`,
    });
  }
  return E.right(report.manifest);
};

/**
 * `orbit archive`: writes the runs finished before the cutoff to `<dir>/runs.ndjson` (an export
 * with its manifest) and `<dir>/checkpoint.json` (a checkpoint of exactly those runs), reads both
 * back and verifies them, then removes the runs from the journal and the projections through the
 * owner-only archive_remove_runs, a batch of runs per transaction, recording each in the archive
 * ledger. `<dir>/progress.json` says how far the removal got: run again with the same directory,
 * an interrupted archive carries on where it stopped.
 */
export const archiveRuns = async (db: Database, opts: ArchiveOptions): Promise<E.Either<OrbitError, ArchiveReport>> => {
  const allowed = await canRemoveArchivedRuns(db);
  if (E.isLeft(allowed)) return allowed;
  if (allowed.right[0]?.allowed !== true) {
    return E.left({
      _tag: 'DatabaseError',
      code: '42501',
      message: `permission denied: only the journal's owner may archive (${db.schema}.archive_remove_runs is not granted to this role); nothing was written`,
    });
  }
  const dir = path.resolve(opts.dir);
  const prepared = await prepareDirectory(dir);
  if (E.isLeft(prepared)) return prepared;
  const found = await readProgress(dir);
  if (E.isLeft(found)) return found;
  const file = path.join(dir, RUNS_FILE);
  let progress: ArchiveProgress;
  // What is removed is what the file holds, as its verified manifest lists it.
  let manifest: ExportManifest;
  const resumed = found.right !== null;
  if (found.right !== null) {
    progress = found.right;
    if (progress.done) {
      return E.left({
        _tag: 'InvalidInput',
        what: '--to',
        message: `${dir} holds a finished archive (${progress.removedRuns} run(s)): give a new directory`,
      });
    }
    if (progress.schema !== db.schema) {
      return E.left({
        _tag: 'InvalidInput',
        what: '--to',
        message: `${dir} holds an unfinished archive of schema ${progress.schema}, not ${db.schema}`,
      });
    }
    if (manifestDigest(await lastLine(file)) !== progress.manifestDigest) {
      return E.left({
        _tag: 'InvalidInput',
        what: '--to',
        message: `${file} is not the export ${path.join(dir, 'progress.json')} was written for: nothing was removed`,
      });
    }
    // Resumed: the file is read back and verified again before anything more is removed.
    const report = await verifyExport(lines(file), { requireManifest: true });
    if (report.problems.length > 0 || report.manifest === null) {
      const first = report.problems[0];
      return E.left({
        _tag: 'InvalidInput',
        what: 'archive',
        message: `${file} does not verify (${first === undefined ? 'no manifest' : describeProblem(first)}): nothing more was removed`,
      });
    }
    manifest = report.manifest;
  } else {
    const before = await cutoff(db, opts.finishedBefore);
    if (E.isLeft(before)) return before;
    const written = await writeExport(db, before.right, file);
    if (E.isLeft(written)) return written;
    if (written.right === null) {
      return E.right({
        dir,
        finishedBefore: before.right,
        runs: 0,
        events: 0,
        manifestDigest: '',
        resumed: false,
        removedRuns: 0,
        removedEvents: 0,
        changed: [],
        bytes: 0,
        droppedPartitions: [],
      });
    }
    const exported = written.right;
    const now = await readDatabaseNow(db);
    if (E.isLeft(now)) return now;
    const cp = checkpointOf(
      exported.manifest.runs.map((r) => ({ runId: r.runId, lastSeq: r.lastSeq, headHash: r.headHash })),
      { createdAt: now.right.toISOString(), schema: db.schema },
      { key: opts.key },
    );
    await writeFileAtomically(path.join(dir, CHECKPOINT_FILE), `${JSON.stringify(cp, null, 2)}\n`);
    // Just written and read back whole: one verification pass (at 10M events it is most of the time).
    const verified = await verifyWritten(file, cp, opts.key);
    if (E.isLeft(verified)) return verified;
    manifest = verified.right;
    progress = {
      orbitArchive: 1,
      schema: db.schema,
      finishedBefore: before.right.toISOString(),
      manifestDigest: manifestDigest(exported.line),
      runs: exported.manifest.runs.length,
      events: exported.manifest.events,
      removedRuns: 0,
      done: false,
    };
    await writeProgress(dir, progress);
  }

  const runs = manifest.runs;
  // Partitions are made ahead here too (the owner runs this), then past months' partitions whose
  // runs are all in this archive are dropped whole; the other runs go row by row.
  const ahead = await addPartitionsAhead(db);
  if (E.isLeft(ahead)) return ahead;
  const partitions = await dropArchivedPartitions(db, progress.manifestDigest, dir, runs);
  if (E.isLeft(partitions)) return partitions;
  const gone = partitions.right.runIds;
  const batchEvents = opts.batchEvents ?? DEFAULT_BATCH_EVENTS;
  const changed: string[] = [];
  let i = progress.removedRuns;
  while (i < runs.length) {
    const batch: (typeof runs)[number][] = [];
    let events = 0;
    let j = i;
    for (; j < runs.length; j++) {
      const next = runs[j] as (typeof runs)[number];
      if (gone.has(next.runId)) continue;
      if (batch.length > 0 && events + next.events > batchEvents) break;
      batch.push(next);
      events += next.events;
    }
    if (batch.length > 0) {
      const removed = await removeArchivedRuns(db, progress.manifestDigest, dir, batch);
      if (E.isLeft(removed)) return removed;
      for (const r of removed.right) {
        if (r.outcome === 'changed') changed.push(r.run_id);
      }
    }
    i = j;
    progress = { ...progress, removedRuns: i, done: i >= runs.length };
    opts.onBatch?.(progress);
    await writeProgress(dir, progress);
  }
  if (!progress.done) {
    progress = { ...progress, done: true };
    await writeProgress(dir, progress);
  }
  const bytes = (await fs.stat(file)).size;
  const kept = new Set(changed);
  const removedEvents = runs.reduce((n, r) => n + (kept.has(r.runId) ? 0 : r.events), 0);
  return E.right({
    dir,
    finishedBefore: new Date(progress.finishedBefore),
    runs: progress.runs,
    events: progress.events,
    manifestDigest: progress.manifestDigest,
    resumed,
    removedRuns: runs.length - changed.length,
    removedEvents,
    changed,
    bytes,
    droppedPartitions: partitions.right.dropped,
  });
};
