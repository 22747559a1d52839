import type { RunPageSearch } from '../queries/listRunPage';

/**
 * A JSON number (no leading zeros, so `042` stays text) or boolean, written as JSON writes it: the
 * search text may also mean that number or boolean. The exponent is bounded so that PostgreSQL's
 * numeric can hold every number this accepts (a failing cast would fail the whole search).
 */
const JSON_LITERAL = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d{1,4})?|true|false)$/;

/** Lone UTF-16 surrogates: JSON.stringify escapes them as `\udXXX`, which jsonb refuses. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The metadata values a text stands for, as JSON texts of one-element arrays (what the index contains). */
const valuesOf = (text: string): string[] => {
  const asString = JSON.stringify([text.replace(LONE_SURROGATE, '\ufffd')]);
  return text.length <= 1000 && JSON_LITERAL.test(text) ? [asString, `[${text}]`] : [asString];
};

/**
 * What the runs page's search box matches (docs/UI.md): the run id, exactly; a top-level metadata
 * field whose value equals the text (a string exactly, a number numerically — `42` finds 42 and
 * 42.0 and "42" —, `true`/`false` a boolean too); and for `key=value`, the field `key` equal to
 * `value` (the whole text is still tried as a value, for values that contain `=`). Null for a text
 * nothing can match (it contains U+0000, which PostgreSQL text cannot hold).
 */
export const searchTerms = (text: string): RunPageSearch | null => {
  if (text.includes('\u0000')) return null;
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  return {
    runId: text,
    values: valuesOf(text),
    key: key === '' ? null : key,
    keyValues: key === '' ? [] : valuesOf(text.slice(eq + 1).trim()),
  };
};
