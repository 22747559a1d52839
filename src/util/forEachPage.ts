import * as E from 'fp-ts/Either';

/**
 * Walks a keyset-paged listing: `fetch(after)` returns the keys after `after` (a page), `visit`
 * handles each page in turn, and the last key of a page is where the next one starts, until a page
 * comes back empty. Memory stays flat however long the listing. The first Left ends the walk.
 */
export const forEachPage = async <L, K>(
  first: NoInfer<K>,
  fetch: (after: K) => Promise<E.Either<L, readonly K[]>>,
  visit: (page: readonly K[]) => Promise<E.Either<L, unknown>>,
): Promise<E.Either<L, void>> => {
  for (let after = first; ;) {
    const page = await fetch(after);
    if (E.isLeft(page)) return page;
    const last = page.right[page.right.length - 1];
    if (last === undefined) return E.right(undefined);
    const visited = await visit(page.right);
    if (E.isLeft(visited)) return visited;
    after = last;
  }
};
