import * as path from 'node:path';
import { cyclesOf, folderGraph, importGraph } from '../support/importGraph';

/*
 * Data flows one way (docs/ARCHITECTURE.md, "Layers"): no module of src/ may import itself back,
 * directly or through others, and neither may a folder (`journal` -> `projections` -> `journal`).
 * Type-only imports count: they tie the modules' shapes together all the same.
 */
const graph = importGraph(path.join(__dirname, '../../src'));

describe('imports of src/', () => {
  it('the graph is read (sanity check of the check itself)', () => {
    expect(graph.get(path.join('executor', 'executeRun.ts'))).toContain(path.join('decide', 'decideNext.ts'));
    expect(
      cyclesOf(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['d']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('no file imports itself back', () => {
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('no folder imports itself back', () => {
    expect(cyclesOf(folderGraph(graph))).toEqual([]);
  });

  // queries/ is its own layer just above db/: it sees only the connection layer and the pure
  // vocabulary (events, fold, errors); db/ sees nothing above it.
  it('queries/ sits just above db/', () => {
    const folders = folderGraph(graph);
    expect(folders.get('queries')).toContain('db');
    expect((folders.get('queries') ?? []).filter((f) => !['db', 'events', 'fold', 'errors.ts'].includes(f))).toEqual([]);
    expect((folders.get('db') ?? []).filter((f) => !['errors.ts', 'util'].includes(f))).toEqual([]);
  });

  // The one boundary (docs/API.md): the CLI is a client of src/api/ like library users, plus
  // src/api/internal/ for what only it needs; it never reaches into the layers below.
  it('src/cli/ imports only src/api/ and its own files', () => {
    const outside = [...graph]
      .filter(([from]) => from.startsWith(`cli${path.sep}`))
      .flatMap(([from, tos]) =>
        tos.filter((to) => !to.startsWith(`cli${path.sep}`) && !to.startsWith(`api${path.sep}`)).map((to) => `${from} -> ${to}`),
      );
    expect(outside).toEqual([]);
  });

  it('src/api/internal/ is for the CLI alone: the public api and the layers below never import it', () => {
    const users = [...graph]
      .filter(([from]) => !from.startsWith(`cli${path.sep}`) && !from.startsWith(path.join('api', 'internal') + path.sep))
      .flatMap(([from, tos]) =>
        tos.filter((to) => to.startsWith(path.join('api', 'internal') + path.sep)).map((to) => `${from} -> ${to}`),
      );
    expect(users).toEqual([]);
  });
});
