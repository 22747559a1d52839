import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** Every relative import of every .ts file under `root`, as paths relative to `root` (type-only ones too). */
export const importGraph = (root: string): Map<string, string[]> => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts')) files.push(p);
    }
  };
  walk(root);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((i) => i.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => {
        const base = path.resolve(path.dirname(file), name);
        const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
        return path.relative(root, hit ?? base);
      });
    graph.set(path.relative(root, file), [...new Set(targets)]);
  }
  return graph;
};

/** Collapses a file graph to the graph of its top-level folders (`journal/x.ts` -> `journal`). */
export const folderGraph = (files: Map<string, string[]>): Map<string, string[]> => {
  const folderOf = (f: string) => (f.includes(path.sep) ? (f.split(path.sep)[0] as string) : f);
  const g = new Map<string, Set<string>>();
  for (const [from, tos] of files) {
    const a = folderOf(from);
    const set = g.get(a) ?? new Set<string>();
    for (const to of tos) if (folderOf(to) !== a) set.add(folderOf(to));
    g.set(a, set);
  }
  return new Map([...g].map(([k, v]) => [k, [...v]]));
};

/** Every cycle's members (strongly connected components of more than one node, or a self-loop), sorted. */
export const cyclesOf = (graph: Map<string, string[]>): string[][] => {
  // Tarjan's algorithm.
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
};
