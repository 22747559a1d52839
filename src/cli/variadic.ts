import type { Argv } from 'yargs';
import type { GlobalArgs } from './session';

/**
 * Commands that take several positional values (`verify a b`, `export a b`). The CLI turns off
 * yargs' duplicate-arguments-array so that `--schema a --schema b` means b; that also collapses a
 * variadic positional to its last value. Such commands turn it back on for themselves and use
 * `lastValues` to restore the "last one wins" rule for the global string options.
 */
export const allowVariadic = <T>(y: Argv<T>): Argv<T> => y.parserConfiguration({ 'duplicate-arguments-array': true });

const last = (v: string | readonly string[] | undefined): string | undefined =>
  typeof v === 'string' || v === undefined ? v : v[v.length - 1];

/** The global options with any repeated string option reduced to its last value. */
export const lastValues = <A extends GlobalArgs>(args: A): A => ({
  ...args,
  // At run time a repeated option is an array, whatever GlobalArgs says.
  databaseUrl: last(args.databaseUrl),
  schema: last(args.schema),
  pipelines: last(args.pipelines),
  threshold: last(args.threshold),
});
