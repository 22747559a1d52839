import * as t from 'io-ts';

/** Any value that survives JSON.stringify/JSON.parse unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * How deeply journaled JSON may nest (a scalar is depth 0, `[1]` depth 1). PostgreSQL's jsonb
 * accepts deeper values only as far as its `max_stack_depth` allows (about 10,000 levels at the
 * default 2MB, measured on PostgreSQL 15), so the limit is Orbit's own, the same on every server.
 */
export const MAX_JSON_DEPTH = 256;

/** `depth` counts the containers around `u`; `u` itself, if a container, is one more. */
const isJson = (u: unknown, depth: number): u is JsonValue => {
  if (typeof u === 'object' && u !== null && depth >= MAX_JSON_DEPTH) return false;
  if (typeof u === 'string') return isStorableText(u);
  if (u === null || typeof u === 'boolean') return true;
  if (typeof u === 'number') return Number.isFinite(u);
  if (Array.isArray(u)) return u.every((x) => isJson(x, depth + 1));
  if (typeof u === 'object') {
    const proto = Object.getPrototypeOf(u) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.entries(u as Record<string, unknown>).every(([k, x]) => isStorableText(k) && isJson(x, depth + 1));
  }
  return false;
};

/** io-ts codec for JSON values (finite numbers, plain objects, no undefined). */
export const JsonValue = new t.Type<JsonValue, JsonValue, unknown>(
  'JsonValue',
  (u): u is JsonValue => isJson(u, 0),
  (u, c) => (isJson(u, 0) ? t.success(u) : t.failure(u, c, 'not a JSON value')),
  t.identity,
);

/** A positive integer (attempt numbers, seqs). */
export const PositiveInteger = new t.Type<number, number, unknown>(
  'PositiveInteger',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u > 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u > 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** A non-negative integer (delays in milliseconds). */
export const NonNegativeInteger = new t.Type<number, number, unknown>(
  'NonNegativeInteger',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/**
 * Converts a value a step handler returned into JSON, or says why it cannot be journaled
 * (BigInt, a cycle, a function, a non-finite number, a class instance such as Map).
 */
export const toJsonValue = (value: unknown): { ok: true; value: JsonValue } | { ok: false; reason: string } => {
  if (value === undefined) return { ok: true, value: null };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    // V8 gives up on very deep values with "Maximum call stack size exceeded": say which limit.
    if (err instanceof RangeError)
      return { ok: false, reason: `it nests more than ${MAX_JSON_DEPTH} levels deep (Orbit's limit for journaled JSON)` };
    // V8's message for a cycle spans lines (it draws the cycle); the error is printed as one line.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: message.split('\n')[0] ?? message };
  }
  if (text === undefined) return { ok: false, reason: `a ${typeof value} cannot be represented as JSON` };
  const parsed: unknown = JSON.parse(text);
  // Checked on the parsed tree, iteratively: the recursive checks below must not exhaust the stack.
  const depth = jsonDepth(parsed, MAX_JSON_DEPTH + 1);
  if (depth > MAX_JSON_DEPTH)
    return { ok: false, reason: `it nests more than ${MAX_JSON_DEPTH} levels deep (Orbit's limit for journaled JSON)` };
  // JSON.stringify drops functions and turns NaN into null silently; a lossy result is refused.
  const lossless = isDeepJsonEqual(value, parsed);
  if (!lossless)
    return {
      ok: false,
      reason:
        'the value does not survive JSON serialisation unchanged or cannot be stored (functions, undefined, NaN, Infinity, Map/Set or class instances, NUL characters, unpaired surrogates)',
    };
  return { ok: true, value: parsed as JsonValue };
};

/** Nesting depth of a JSON tree (no cycles), counted without recursion; stops once past `stopAt`. */
export const jsonDepth = (value: unknown, stopAt = Number.POSITIVE_INFINITY): number => {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const children = Array.isArray(v) ? (v as unknown[]) : Object.values(v as Record<string, unknown>);
    if (d + 1 > max) max = d + 1;
    if (max >= stopAt) return max;
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return max;
};

/** An unpaired UTF-16 surrogate: valid in a JavaScript string, refused by PostgreSQL's jsonb. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text PostgreSQL can store in jsonb: no NUL character, no unpaired surrogate. */
export const isStorableText = (s: string): boolean => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

/** Makes any text storable: NUL and unpaired surrogates become U+FFFD. */
export const toStorableText = (s: string): string =>
  isStorableText(s) ? s : s.split('\u0000').join('\ufffd').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');

const isDeepJsonEqual = (original: unknown, parsed: unknown): boolean => {
  if (typeof original === 'string') return original === parsed && isStorableText(original);
  if (original === null || typeof original === 'boolean') return original === parsed;
  if (typeof original === 'number') return Number.isFinite(original) && original === parsed;
  if (original instanceof Date) return typeof parsed === 'string';
  if (Array.isArray(original)) {
    return Array.isArray(parsed) && original.length === parsed.length && original.every((x, i) => isDeepJsonEqual(x, parsed[i]));
  }
  if (typeof original === 'object' && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const proto = Object.getPrototypeOf(original) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    const entries = Object.entries(original as Record<string, unknown>);
    const p = parsed as Record<string, unknown>;
    return entries.every(([k, v]) => isStorableText(k) && (v === undefined ? !(k in p) : isDeepJsonEqual(v, p[k])));
  }
  return false;
};
