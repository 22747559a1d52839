import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/Either';
import { parseCheckpoint, type Checkpoint } from '../api/internal/checkpoint';
import type { OrbitError } from '../api/internal/errors';

/** The signing key: `--key-file`, else $ORBIT_CHECKPOINT_KEY, else none (unsigned checkpoints). */
export const checkpointKey = (
  keyFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): E.Either<OrbitError, Buffer | undefined> => {
  try {
    if (keyFile !== undefined) return E.right(readFileSync(keyFile));
  } catch (err) {
    return E.left({ _tag: 'InvalidInput', what: '--key-file', message: err instanceof Error ? err.message : String(err) });
  }
  const v = env.ORBIT_CHECKPOINT_KEY;
  return E.right(v === undefined || v === '' ? undefined : Buffer.from(v, 'utf8'));
};

/** Reads and parses a checkpoint file. */
export const readCheckpoint = (file: string): E.Either<OrbitError, Checkpoint> => {
  try {
    return parseCheckpoint(readFileSync(file, 'utf8'));
  } catch (err) {
    return E.left({ _tag: 'InvalidInput', what: 'checkpoint file', message: err instanceof Error ? err.message : String(err) });
  }
};
