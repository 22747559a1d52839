import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { fromPgError, isServerBusy } from '../db/pgErrors';
import { retryTransient } from '../db/retryTransient';
import type { DbFailure } from '../errors';

/**
 * The server's version: whether the database answers, checked by commands before they report
 * anything. A server that is not there fails at once (a typo in a URL should not make anyone
 * wait); one that answers "starting up" or "shutting down" is waited for within the retry budget.
 */
export const readServerVersion = async (db: Database): Promise<E.Either<DbFailure, string>> => {
  try {
    const res = await retryTransient(
      db,
      () => db.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v"),
      isServerBusy,
    );
    return E.right(res.rows[0]?.v ?? 'unknown');
  } catch (err) {
    return E.left(fromPgError(err));
  }
};
