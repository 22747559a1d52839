import * as t from 'io-ts';

/** Any value that survives JSON.stringify/JSON.parse unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const isJson = (u: unknown, depth: number): u is JsonValue => {
  if (depth > 256) return false;
  if (u === null || typeof u === 'string' || typeof u === 'boolean') return true;
  if (typeof u === 'number') return Number.isFinite(u);
  if (Array.isArray(u)) return u.every((x) => isJson(x, depth + 1));
  if (typeof u === 'object') {
    const proto = Object.getPrototypeOf(u) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(u as Record<string, unknown>).every((x) => isJson(x, depth + 1));
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
  // PostgreSQL's jsonb cannot store the NUL character.
  if (text.includes('\\u0000')) return { ok: false, reason: 'strings containing the NUL character (\\u0000) cannot be stored' };
  const parsed: unknown = JSON.parse(text);
  // JSON.stringify drops functions and turns NaN into null silently; a lossy result is refused.
  const lossless = isDeepJsonEqual(value, parsed);
  if (!lossless)
    return {
      ok: false,
      reason:
        'the value does not survive JSON serialisation unchanged (functions, undefined, NaN, Infinity, Map/Set or class instances)',
    };
  return { ok: true, value: parsed as JsonValue };
};

const isDeepJsonEqual = (original: unknown, parsed: unknown): boolean => {
  if (original === null || typeof original === 'string' || typeof original === 'boolean') return original === parsed;
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
    return entries.every(([k, v]) => (v === undefined ? !(k in p) : isDeepJsonEqual(v, p[k])));
  }
  return false;
};
