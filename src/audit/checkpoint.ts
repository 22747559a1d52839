import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { OrbitError } from '../errors';
import { listRunHeads } from '../queries/listRunHeads';
import { listRunsCreatedBefore } from '../queries/listRunsCreatedBefore';
import { readCheckpointedHeads } from '../queries/readCheckpointedHeads';
import { readDatabaseNow } from '../queries/readDatabaseNow';
import { Checkpoint, CheckpointRun } from './checkpointFormat';
import { CHECKPOINT, type AuditProblem } from './problems';

export { Checkpoint, CheckpointRun } from './checkpointFormat';

const sha256 = (...parts: (string | Buffer)[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Merkle root of the runs, in runId order; an odd node is carried up unchanged. */
export const merkleRoot = (runs: readonly CheckpointRun[]): string => {
  let level = [...runs]
    .sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0))
    .map((r) => sha256('leaf\u001f', r.runId, '\u001f', String(r.lastSeq), '\u001f', r.headHash));
  if (level.length === 0) return sha256('empty').toString('hex');
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i] as Buffer;
      const r = level[i + 1];
      next.push(r === undefined ? l : sha256('node', l, r));
    }
    level = next;
  }
  return (level[0] as Buffer).toString('hex');
};

const digestOf = (c: Pick<Checkpoint, 'createdAt' | 'schema' | 'previous' | 'root'>): string =>
  sha256('orbit-checkpoint-1\u001f', c.createdAt, '\u001f', c.schema, '\u001f', c.previous ?? '', '\u001f', c.root).toString(
    'hex',
  );

const macOf = (key: Buffer, digest: string): string => createHmac('sha256', key).update(digest).digest('hex');

/**
 * A checkpoint of the given heads, taken at `createdAt` (the database's clock): what
 * `takeCheckpoint` writes for every run, and `orbit archive` for the runs it archives.
 */
export const checkpointOf = (
  runs: readonly CheckpointRun[],
  at: { readonly createdAt: string; readonly schema: string },
  opts: { readonly previous?: Checkpoint; readonly key?: Buffer } = {},
): Checkpoint => {
  const base = { createdAt: at.createdAt, schema: at.schema, previous: opts.previous?.digest ?? null, root: merkleRoot(runs) };
  const digest = digestOf(base);
  return {
    orbitCheckpoint: 1,
    ...base,
    runs: [...runs],
    digest,
    mac: opts.key === undefined ? null : macOf(opts.key, digest),
  };
};

/**
 * Takes a checkpoint: every run's head, read in one statement (one snapshot). `previous` chains it
 * to the last checkpoint; `key` signs it (HMAC) so a forged checkpoint file is detected too.
 */
export const takeCheckpoint = async (
  db: Database,
  opts: { readonly previous?: Checkpoint; readonly key?: Buffer } = {},
): Promise<E.Either<OrbitError, Checkpoint>> => {
  const rows = await listRunHeads(db);
  if (E.isLeft(rows)) return rows;
  const now = await readDatabaseNow(db);
  if (E.isLeft(now)) return now;
  const runs = rows.right.map((r): CheckpointRun => ({ runId: r.run_id, lastSeq: r.seq, headHash: r.hash }));
  return E.right(checkpointOf(runs, { createdAt: now.right.toISOString(), schema: db.schema }, opts));
};

/** Parses a checkpoint file's text. */
export const parseCheckpoint = (text: string): E.Either<OrbitError, Checkpoint> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left({ _tag: 'InvalidInput', what: 'checkpoint', message: 'not JSON' });
  }
  const c = Checkpoint.decode(json);
  return E.isLeft(c)
    ? E.left({ _tag: 'InvalidInput', what: 'checkpoint', message: 'not an Orbit checkpoint' })
    : E.right(c.right);
};

/** Problems with the checkpoint file itself: root, digest, signature, link to the previous one. */
export const checkCheckpointFile = (
  c: Checkpoint,
  opts: { readonly key?: Buffer; readonly previous?: Checkpoint; readonly trustUnsigned?: boolean } = {},
): AuditProblem[] => {
  const out: AuditProblem[] = [];
  const bad = (detail: string) => out.push({ runId: CHECKPOINT, seq: null, kind: 'checkpoint altered', detail });
  if (merkleRoot(c.runs) !== c.root) bad('its runs do not hash to its Merkle root');
  if (digestOf(c) !== c.digest) bad('its digest does not match its contents');
  if (opts.key !== undefined) {
    if (c.mac === null) bad('it is not signed, but a key was given: a forged file would look exactly like it');
    else {
      const want = Buffer.from(macOf(opts.key, c.digest), 'hex');
      const got = Buffer.from(c.mac, 'hex');
      if (got.length !== want.length || !timingSafeEqual(got, want)) bad('its signature does not verify with this key');
    }
  } else if (opts.trustUnsigned !== true) {
    // Root and digest need no secret: anyone who can rewrite the journal can rewrite them too.
    out.push({
      runId: CHECKPOINT,
      seq: null,
      kind: 'checkpoint not authenticated',
      detail: `${c.mac === null ? 'it is unsigned' : 'no key was given, so its signature was not checked'}: anyone who can edit the journal can forge it (give the key with --key-file or $ORBIT_CHECKPOINT_KEY, or accept that with --trust-unsigned)`,
    });
  }
  if (opts.previous !== undefined && c.previous !== opts.previous.digest)
    bad('it is not chained to the previous checkpoint given');
  return out;
};

/**
 * Checks the journal against a checkpoint: every run it lists must still have the same head hash
 * at the same seq and no missing seq before it; a run that began before the checkpoint must be in
 * it. Catches what the hash chain alone cannot: an edit with the chain recomputed, a whole run
 * deleted, an event deleted and the rest renumbered.
 */
export const verifyCheckpoint = async (db: Database, c: Checkpoint): Promise<E.Either<OrbitError, AuditProblem[]>> => {
  const rows = await readCheckpointedHeads(db, c.runs);
  if (E.isLeft(rows)) return rows;
  const out: AuditProblem[] = [];
  for (const r of rows.right) {
    if (r.present === 0) {
      out.push({ runId: r.run_id, seq: null, kind: 'run deleted', detail: `had ${r.seq} event(s) at the checkpoint; none now` });
    } else if (r.hash === null || r.events < r.seq) {
      out.push({
        runId: r.run_id,
        seq: r.seq,
        kind: 'event deleted',
        detail: `the checkpoint saw seq 1..${r.seq}; ${r.events} of them remain${r.hash === null ? `, seq ${r.seq} among the missing` : ''}`,
      });
    } else if (r.hash !== r.head) {
      out.push({
        runId: r.run_id,
        seq: r.seq,
        kind: 'events rewritten',
        detail: `head hash at seq ${r.seq} was ${r.head.slice(0, 16)}…, is ${r.hash.slice(0, 16)}…: an event at or before it was changed and the chain recomputed`,
      });
    }
  }
  // A minute's margin: an append that was in flight while the checkpoint was read carries an
  // earlier time than the checkpoint yet was not visible to it.
  const added = await listRunsCreatedBefore(
    db,
    c.createdAt,
    60,
    c.runs.map((r) => r.runId),
  );
  if (E.isLeft(added)) return added;
  for (const a of added.right) {
    out.push({
      runId: a.run_id,
      seq: 1,
      kind: 'run not in checkpoint',
      detail: `began more than a minute before the checkpoint (${c.createdAt}) but is not in it`,
    });
  }
  return E.right(out);
};
