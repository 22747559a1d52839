/**
 * The checkpoint file's format, apart from how a checkpoint is taken and checked (checkpoint.ts):
 * the public types that name it (verifyExport's options) stay free of the database layer.
 */
import * as t from 'io-ts';

/** One run's head when the checkpoint was taken: its last seq and that event's chained hash. */
export const CheckpointRun = t.type({ runId: t.string, lastSeq: t.number, headHash: t.string });
export type CheckpointRun = t.TypeOf<typeof CheckpointRun>;

/**
 * A digest of every run's head, to be stored outside the database. Whoever can rewrite the journal
 * (a superuser, the owner role) can recompute its per-run hash chains, but not this file: any edit,
 * recomputed chain, deleted run or deleted event older than the checkpoint changes a head.
 */
export const Checkpoint = t.type({
  orbitCheckpoint: t.literal(1),
  createdAt: t.string,
  schema: t.string,
  /** `digest` of the checkpoint before this one, or null: checkpoints form a chain. */
  previous: t.union([t.string, t.null]),
  runs: t.array(CheckpointRun),
  /** Merkle root over the runs (leaf: sha256 of runId, lastSeq, headHash), hex. */
  root: t.string,
  /** sha256 over createdAt, schema, previous and root: what identifies this checkpoint, hex. */
  digest: t.string,
  /** HMAC-SHA256 of `digest` with a key the database never sees, or null when taken without one. */
  mac: t.union([t.string, t.null]),
});
export type Checkpoint = t.TypeOf<typeof Checkpoint>;
