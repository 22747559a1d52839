import type { DbFailure } from '../errors';

/** Network-level failures from Node's socket layer. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);

/**
 * SQLSTATE classes that mean "you cannot use this database right now": 08 connection exception,
 * 28 invalid authorisation, 3D000 unknown database, 57P01-03 shutdown/cannot connect now.
 */
const isUnavailableSqlState = (code: string): boolean =>
  code.startsWith('08') || code.startsWith('28') || code === '3D000' || code === '57P01' || code === '57P02' || code === '57P03';

const errorCode = (err: unknown): string | undefined => {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
};

const errorMessage = (err: unknown): string => {
  if (err instanceof AggregateError && err.errors.length > 0) return errorMessage(err.errors[0]);
  if (err instanceof Error) return err.message || err.name;
  return String(err);
};

/**
 * SQLSTATEs a retry can outlive: connection exceptions (08xxx), an administrator or a restart
 * ending the session or refusing it while the server shuts down or starts (57P01-57P03), a
 * serialization failure or deadlock (40001, 40P01: the transaction was rolled back whole), a
 * full connection table (53300), and a statement cancelled by `statement_timeout` (57014) or a
 * lock not granted within `lock_timeout` (55P03): a role's or a server's timeouts set for other
 * workloads hit an append that was merely unlucky (a checkpoint, a vacuum, a burst); its
 * transaction was rolled back whole and the same statement usually passes a moment later.
 */
const isTransientSqlState = (code: string): boolean =>
  code.startsWith('08') || ['57P01', '57P02', '57P03', '40001', '40P01', '53300', '57014', '55P03'].includes(code);

/** True for failures where retrying the same statement on a new connection may succeed. */
export const isTransient = (err: unknown): boolean => {
  const code = errorCode(err);
  // `pg` reports a dropped socket and a pool connect timeout as plain Errors without a code.
  if (code === undefined) return /Connection terminated|timeout exceeded when trying to connect/i.test(errorMessage(err));
  return NETWORK_CODES.has(code) || isTransientSqlState(code);
};

/** The server answered but is going away or coming up (or full): worth waiting for even on a first connect. */
export const isServerBusy = (err: unknown): boolean => {
  const code = errorCode(err);
  return code !== undefined && ['57P01', '57P02', '57P03', '53300'].includes(code);
};

/** Maps anything `pg` throws to an OrbitError, by SQLSTATE or errno, never by message text. */
export const fromPgError = (err: unknown): DbFailure => {
  const code = errorCode(err);
  const message = errorMessage(err).replace(/\s+/g, ' ').trim();
  if (code !== undefined && (NETWORK_CODES.has(code) || isUnavailableSqlState(code))) {
    return { _tag: 'DatabaseUnavailable', message };
  }
  if (code === undefined && /Connection terminated|connect|timeout/i.test(message)) {
    return { _tag: 'DatabaseUnavailable', message };
  }
  return { _tag: 'DatabaseError', message, code };
};
