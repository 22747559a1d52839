import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import type { InvalidInput } from '../errors';
import type { Clock } from '../util/clock';

/**
 * Run ids sort by creation time (base-36 milliseconds) and carry 48 random bits:
 * `run_lx2k9f0a3b7c1d2e4f`. Short enough to type, unique enough to never collide in practice.
 */
export const newRunId = (clock: Clock): string => `run_${clock.now().toString(36)}${randomBytes(6).toString('hex')}`;

/** Run ids accepted from users: printable, no whitespace, at most 200 characters. */
export const isValidRunId = (s: string): boolean => /^[A-Za-z0-9._:-]{1,200}$/.test(s);

/** A run id from a user, or the InvalidInput that says why it is not one. */
export const parseRunId = (s: string): E.Either<InvalidInput, string> =>
  isValidRunId(s)
    ? E.right(s)
    : E.left({
        _tag: 'InvalidInput',
        what: 'run id',
        message: `${JSON.stringify(s)} is not a run id (letters, digits, . _ : -; at most 200)`,
      });
