import * as E from 'fp-ts/Either';
import { ExitCode } from './exitCodes';
import { createOutput } from './output';
import { validateDatabaseUrl, validateSchemaName } from '../api/internal/arguments';
import { OrbitErrors, type OrbitError } from '../api/internal/errors';

/**
 * Parsers for option values the CLI must check before it connects. Each returns the value or an
 * InvalidInput naming the option; `refuseUsage` prints it as one line and exits 2 (usage).
 */

/**
 * A count option (`--concurrency`, `--limit`) taken as the text the user typed: yargs' `number`
 * type turns `abc` into NaN and `1e300` into a float, which then reach SQL or a worker pool.
 */
export const parseCount = (raw: unknown, what: string, max: number): E.Either<OrbitError, number> => {
  const text = String(raw).trim();
  if (!/^\d+$/.test(text)) {
    return E.left(OrbitErrors.invalidInput(what, `${JSON.stringify(String(raw))} is not a whole number (use 1 to ${max})`));
  }
  const n = Number(text);
  if (n < 1 || n > max) return E.left(OrbitErrors.invalidInput(what, `${text} is out of range (use 1 to ${max})`));
  return E.right(n);
};

/** Largest `--concurrency`: more runs at once than this only queues on the connection pool. */
export const MAX_CONCURRENCY = 256;
/** Largest `--limit`: PostgreSQL's LIMIT takes a bigint, but a batch this size is already a day's work. */
export const MAX_LIMIT = 1_000_000;

/**
 * Where JSON text is broken, without quoting it: V8's message quotes the text ("Unexpected token
 * 'h', \"{"a": hunter2}\" is not valid JSON"), and metadata carries secrets.
 */
const jsonSyntaxHint = (err: unknown): string => {
  const message = err instanceof Error ? err.message : '';
  if (/Unexpected end/i.test(message)) return 'the text ends too early';
  const pos = /at position (\d+)/.exec(message);
  return pos ? `syntax error at position ${pos[1]}` : 'syntax error';
};

/** `--metadata`: JSON text of an object, not `null` (a run's metadata is never null; omit it for `{}`). */
export const parseMetadataOption = (text: string): E.Either<OrbitError, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    return E.left(OrbitErrors.invalidInput('--metadata', `not valid JSON (${jsonSyntaxHint(err)})`));
  }
  if (value === null) {
    return E.left(
      OrbitErrors.invalidInput(
        '--metadata',
        `null is not metadata: give a JSON value such as '{"batchId":"b-7"}', or omit --metadata for {}`,
      ),
    );
  }
  // A run's metadata is a JSON object (JsonObject): an array or a scalar would reach handlers that
  // read `ctx.metadata?.field`. Named by its kind, never quoted (metadata carries secrets).
  if (typeof value !== 'object' || Array.isArray(value)) {
    return E.left(
      OrbitErrors.invalidInput(
        '--metadata',
        `metadata is a JSON object such as '{"batchId":"b-7"}', not ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`,
      ),
    );
  }
  return E.right(value);
};

/**
 * Options every command shares that can be checked without a connection (`--database-url`,
 * `--schema` or ORBIT_SCHEMA; durations are checked by main.ts).
 */
export const checkGlobalOptions = (
  args: { readonly databaseUrl?: string; readonly readUrl?: string; readonly schema?: string },
  env: Readonly<Record<string, string | undefined>> = process.env,
): E.Either<OrbitError, void> => {
  if (args.databaseUrl !== undefined && args.databaseUrl !== '') {
    const url = validateDatabaseUrl(args.databaseUrl, '--database-url');
    if (E.isLeft(url)) return url;
  }
  if (args.readUrl !== undefined && args.readUrl !== '') {
    const url = validateDatabaseUrl(args.readUrl, '--read-url');
    if (E.isLeft(url)) return url;
  }
  const schema = args.schema !== undefined && args.schema !== '' ? args.schema : env.ORBIT_SCHEMA;
  if (schema !== undefined && schema !== '') {
    const valid = validateSchemaName(schema);
    if (E.isLeft(valid)) return valid;
  }
  return E.right(undefined);
};

/** Refuses a usage error before any connection is made: one line on stderr, exit 2, nothing touched. */
export const refuseUsage = (
  args: { readonly json: boolean; readonly color: boolean; readonly timestamps?: boolean },
  e: OrbitError,
): void => {
  createOutput({ json: args.json, color: args.color, timestamps: args.timestamps }).error(e);
  process.exitCode = ExitCode.usage;
};
