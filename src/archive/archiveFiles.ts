/**
 * The files of an archive directory (`orbit archive --to <dir>`) and its progress record, which
 * makes an archive resumable: the export is written and verified first, then runs are removed a
 * batch at a time and `progress.json` says how far that got.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import type { InvalidInput } from '../errors';

export const RUNS_FILE = 'runs.ndjson';
export const CHECKPOINT_FILE = 'checkpoint.json';
export const PROGRESS_FILE = 'progress.json';
const PARTIAL_SUFFIX = '.partial';

/** Files `orbit archive` writes; a directory holding anything else is not reused. */
export const ARCHIVE_FILES: ReadonlySet<string> = new Set([
  RUNS_FILE,
  `${RUNS_FILE}${PARTIAL_SUFFIX}`,
  CHECKPOINT_FILE,
  PROGRESS_FILE,
  `${PROGRESS_FILE}${PARTIAL_SUFFIX}`,
]);

/** How far an archive got: written and verified, then `removedRuns` of its runs (in manifest order) removed. */
export const ArchiveProgress = t.type({
  orbitArchive: t.literal(1),
  schema: t.string,
  finishedBefore: t.string,
  /** sha256 (hex) of the manifest line of runs.ndjson: the archive ledger records it. */
  manifestDigest: t.string,
  runs: t.number,
  events: t.number,
  removedRuns: t.number,
  done: t.boolean,
});
export type ArchiveProgress = t.TypeOf<typeof ArchiveProgress>;

/** sha256 (hex) of a manifest line as written (without its newline). */
export const manifestDigest = (line: string): string => createHash('sha256').update(line, 'utf8').digest('hex');

const invalid = (message: string): InvalidInput => ({ _tag: 'InvalidInput', what: '--to', message });

/** The progress record, or null when there is none yet. */
export const readProgress = async (dir: string): Promise<E.Either<InvalidInput, ArchiveProgress | null>> => {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, PROGRESS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return E.right(null);
    return E.left(invalid(`${path.join(dir, PROGRESS_FILE)}: ${(err as Error).message}`));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left(invalid(`${path.join(dir, PROGRESS_FILE)} is not JSON: not an archive directory this version wrote`));
  }
  const p = ArchiveProgress.decode(json);
  return E.isLeft(p) ? E.left(invalid(`${path.join(dir, PROGRESS_FILE)} is not an archive progress record`)) : E.right(p.right);
};

/** Writes a file whole or not at all (a temporary file, flushed, then renamed over). */
export const writeFileAtomically = async (file: string, text: string): Promise<void> => {
  const tmp = `${file}${PARTIAL_SUFFIX}`;
  const h = await fs.open(tmp, 'w');
  try {
    await h.writeFile(text, 'utf8');
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
};

export const writeProgress = (dir: string, p: ArchiveProgress): Promise<void> =>
  writeFileAtomically(path.join(dir, PROGRESS_FILE), `${JSON.stringify(p, null, 2)}\n`);

/**
 * Makes the directory if needed; refuses one that holds files `orbit archive` did not write (an
 * archive never overwrites anything else).
 */
export const prepareDirectory = async (dir: string): Promise<E.Either<InvalidInput, void>> => {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const foreign = (await fs.readdir(dir)).filter((f) => !ARCHIVE_FILES.has(f));
    if (foreign.length > 0) {
      return E.left(invalid(`${dir} holds other files (${foreign.slice(0, 3).join(', ')}): give an empty or new directory`));
    }
    return E.right(undefined);
  } catch (err) {
    return E.left(invalid(`${dir}: ${(err as Error).message}`));
  }
};

export const partialPath = (file: string): string => `${file}${PARTIAL_SUFFIX}`;
