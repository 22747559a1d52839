import { inspect } from 'node:util';

/** Where a lazy record's properties come from: one key at a time, or all of them (in order). */
export interface RecordSource<V> {
  /** The value of `key`, or undefined when the record has no such key. */
  readonly get: (key: string) => V | undefined;
  /** Every key, in the order the record lists them; asked once, when the record is first enumerated. */
  readonly keys: () => readonly string[];
}

/** Canonical array indices (what a plain object lists first, ascending). */
const isIndex = (k: string): boolean => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 4294967295;

/** Keys in a plain object's own order: array indices ascending, then the rest as given. */
const objectOrder = (keys: readonly string[]): string[] => {
  const indices = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return indices.length === 0 ? [...keys] : [...indices, ...keys.filter((k) => !isIndex(k))];
};

/**
 * A read-only object whose properties are looked up when they are read: building one costs
 * nothing, reading one property costs what `get` costs, and only enumerating it (`Object.keys`,
 * `Object.entries`, spread, `JSON.stringify`, `for … in`) lists every key. Reads, `in`, own-ness,
 * enumeration, JSON and `console.log` behave as on a plain object with those properties;
 * assignments and deletions are refused (a TypeError in strict code).
 */
export const lazyRecord = <V>(src: RecordSource<V>): Readonly<Record<string, V | undefined>> => {
  let keys: readonly string[] | undefined;
  const allKeys = (): readonly string[] => (keys ??= objectOrder(src.keys()));
  const own = (key: string | symbol): V | undefined => (typeof key === 'string' ? src.get(key) : undefined);
  const target: object = {};
  // util.inspect shows a proxy's target without running its traps; the target shows the record.
  Object.defineProperty(target, inspect.custom, {
    value: () => Object.fromEntries(allKeys().map((k) => [k, own(k)])),
    enumerable: false,
    configurable: true,
  });
  return new Proxy(target, {
    get: (t, key, receiver) => {
      const v = own(key);
      return v !== undefined ? v : (Reflect.get(t, key, receiver) as unknown);
    },
    has: (t, key) => own(key) !== undefined || Reflect.has(t, key),
    ownKeys: () => [...allKeys()],
    getOwnPropertyDescriptor: (t, key) => {
      const v = own(key);
      if (v !== undefined) return { value: v, writable: false, enumerable: true, configurable: true };
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
    preventExtensions: () => false,
  }) as Readonly<Record<string, V | undefined>>;
};
