import type * as t from 'io-ts';

/** The first thing an io-ts decode rejected: where (named keys only) and what was wrong. */
export interface DecodeFailure {
  /** Keys from the root to the field; array indexes and union branches left out. */
  readonly path: readonly string[];
  /** The codec's own message, else `expected <type>, got <value>` (long values cut at 60 characters). */
  readonly message: string;
}

/** What kind of value was given, never the value itself (metadata carries secrets). */
const kindOf = (u: unknown): string =>
  u === undefined
    ? 'nothing'
    : u === null
      ? 'null'
      : Array.isArray(u)
        ? 'an array'
        : typeof u === 'object'
          ? 'an object'
          : `a ${typeof u}`;

const show = (u: unknown): string => {
  const s = u === undefined ? 'undefined' : (JSON.stringify(u) ?? 'undefined');
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** The one io-ts error formatter: journal rows, metadata and step outputs all report through it. */
export const firstDecodeFailure = (errors: t.Errors, opts: DescribeOptions = {}): DecodeFailure => {
  const first = errors[0];
  if (first === undefined) return { path: [], message: 'invalid value' };
  const path = first.context
    .slice(1)
    .map((c) => c.key)
    .filter((k) => k !== '' && !/^\d+$/.test(k));
  const expected = first.context[first.context.length - 1]?.type.name ?? 'a valid value';
  const got = opts.showValue === false ? kindOf(first.value) : show(first.value);
  return { path, message: first.message ?? `expected ${expected}, got ${got}` };
};

export interface DescribeOptions {
  /** Quote the offending value (default true). False for user input that may hold secrets: the kind is named instead. */
  readonly showValue?: boolean;
}

/** `field.path: what was wrong`, in one line. */
export const describeDecodeError = (errors: t.Errors, opts: DescribeOptions = {}): string => {
  const f = firstDecodeFailure(errors, opts);
  return `${f.path.join('.') || 'value'}: ${f.message}`;
};
