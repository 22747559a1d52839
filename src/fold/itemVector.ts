/**
 * A fixed-length persistent vector (a 32-way trie): `set` returns a new vector sharing all but
 * the path it changed, so the fold can keep one entry per map item and still never mutate a state
 * it was given, at O(log32 n) per item event instead of a copy of every item.
 */
type Node<T> = readonly (Node<T> | T | undefined)[];

export interface ItemVector<T> {
  readonly size: number;
  /** Bits consumed above the leaves (0: the root is a leaf). */
  readonly shift: number;
  readonly root: Node<T> | undefined;
}

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

/** `size` entries, all undefined. */
export const emptyVector = <T>(size: number): ItemVector<T> => {
  let shift = 0;
  while (WIDTH ** (shift / BITS + 1) < size) shift += BITS;
  return { size, shift, root: undefined };
};

export const vectorGet = <T>(v: ItemVector<T>, i: number): T | undefined => {
  let node: Node<T> | undefined = v.root;
  for (let level = v.shift; level > 0; level -= BITS) {
    if (node === undefined) return undefined;
    node = node[(i >>> level) & MASK] as Node<T> | undefined;
  }
  return node?.[i & MASK] as T | undefined;
};

const setIn = <T>(node: Node<T> | undefined, level: number, i: number, value: T): Node<T> => {
  const copy: (Node<T> | T | undefined)[] = node === undefined ? new Array<Node<T> | T | undefined>(WIDTH) : node.slice();
  const at = (i >>> level) & MASK;
  copy[at] = level === 0 ? value : setIn(copy[at] as Node<T> | undefined, level - BITS, i, value);
  return copy;
};

export const vectorSet = <T>(v: ItemVector<T>, i: number, value: T): ItemVector<T> => {
  if (!(Number.isInteger(i) && i >= 0 && i < v.size)) throw new RangeError(`index ${i} outside a vector of ${v.size}`);
  return { size: v.size, shift: v.shift, root: setIn(v.root, v.shift, i, value) };
};
