import type * as E from 'fp-ts/Either';
import { takeCheckpoint as take, verifyCheckpoint as verify, type Checkpoint } from '../../audit/checkpoint';
import type { AuditProblem } from '../../audit/problems';
import type { OrbitError } from '../../errors';
import type { OrbitClient } from '../../runtime/orbitClient';

/** `orbit checkpoint` and `orbit verify --checkpoint`: the journal's heads, signed, kept outside it. */
export { checkCheckpointFile, parseCheckpoint, type Checkpoint } from '../../audit/checkpoint';

/** Takes a checkpoint of every run's head, chained to `previous`, signed with `key`. */
export const takeCheckpoint = (
  client: OrbitClient,
  opts: { readonly previous?: Checkpoint; readonly key?: Buffer } = {},
): Promise<E.Either<OrbitError, Checkpoint>> => take(client.db, opts);

/** The journal's problems against a checkpoint: runs that lost events or were rewritten since. */
export const verifyCheckpoint = (client: OrbitClient, c: Checkpoint): Promise<E.Either<OrbitError, AuditProblem[]>> =>
  verify(client.db, c);
