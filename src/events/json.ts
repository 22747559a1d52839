import * as t from 'io-ts';

/** Any value that survives JSON.stringify/JSON.parse unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const isJson = (u: unknown, depth: number): u is JsonValue => {
  if (depth > 256) return false;
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
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  if (text === undefined) return { ok: false, reason: `a ${typeof value} cannot be represented as JSON` };
  const parsed: unknown = JSON.parse(text);
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
