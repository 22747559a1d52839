import { isStorableText, MAX_JSON_DEPTH } from '../events/json';

/** Where a value stops being JSON, and what is found there. */
export interface JsonProblem {
  /** `$` for the value itself, then `.field`, `["odd key"]` and `[index]`: `$.rows[2].when`. */
  readonly path: string;
  /** What was found, with what to return instead: `a Date (return date.toISOString() ...)`. */
  readonly what: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const keyPath = (path: string, key: string): string =>
  IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

const describeObject = (value: object): string | undefined => {
  if (value instanceof Date) return 'a Date (return date.toISOString(), or give the step an output codec that encodes it)';
  if (value instanceof Map || value instanceof Set)
    return `a ${value instanceof Map ? 'Map' : 'Set'} (return an array or a plain object)`;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return 'binary data (return a base64 or hex string)';
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Object.prototype || proto === null) return undefined;
  const ctor = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  return `an instance of ${typeof ctor === 'string' && ctor !== '' ? ctor : 'a class'} (return a plain object)`;
};

/**
 * The first place where `value` is not plain JSON, or undefined when all of it is. Stricter than
 * what `definePipeline`'s steps may return: a Date is refused (JSON.stringify would turn it into a
 * string, and the typed builder says it was a Date), and so is `undefined` in an array (it would
 * come back as null). An object field that is undefined is left out, as JSON.stringify does.
 */
export const jsonProblem = (value: unknown): JsonProblem | undefined => {
  const within: object[] = [];
  const visit = (v: unknown, path: string): JsonProblem | undefined => {
    switch (typeof v) {
      case 'string':
        return isStorableText(v) ? undefined : { path, what: 'a string with a NUL character or an unpaired surrogate' };
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(v) ? undefined : { path, what: `${String(v)} (JSON has finite numbers only)` };
      case 'bigint':
        return { path, what: 'a bigint (return a string or a number)' };
      case 'symbol':
        return { path, what: 'a symbol' };
      case 'function':
        return { path, what: 'a function' };
      case 'undefined':
        return { path, what: 'undefined (in an array it would come back as null)' };
      default:
        break;
    }
    if (v === null) return undefined;
    const obj = v as object;
    if (within.includes(obj)) return { path, what: 'a circular reference' };
    if (within.length >= MAX_JSON_DEPTH) return { path, what: `a value nested more than ${MAX_JSON_DEPTH} levels deep` };
    within.push(obj);
    try {
      if (Array.isArray(obj)) {
        for (let i = 0; i < obj.length; i++) {
          const p = visit(obj[i] as unknown, `${path}[${i}]`);
          if (p !== undefined) return p;
        }
        return undefined;
      }
      const odd = describeObject(obj);
      if (odd !== undefined) return { path, what: odd };
      for (const [k, x] of Object.entries(obj)) {
        const at = keyPath(path, k);
        if (!isStorableText(k)) return { path: at, what: 'a key with a NUL character or an unpaired surrogate' };
        if (x === undefined) continue;
        const p = visit(x, at);
        if (p !== undefined) return p;
      }
      return undefined;
    } finally {
      within.pop();
    }
  };
  return visit(value, '$');
};
