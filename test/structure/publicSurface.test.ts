import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import * as root from '../../src/index';
import * as promised from '../../src/promise';

/*
 * One boundary (docs/API.md): the public functions are the files of src/api/, src/index.ts only
 * re-exports, `orbit-pipeline/promise` has a runtime counterpart for every root value, and
 * docs/API.md lists exactly what the package exports.
 */
const SRC = path.join(__dirname, '../../src');
const API_DOC = path.join(__dirname, '../../docs/API.md');

const ROOT_FILE = path.join(SRC, 'index.ts');
const PROMISE_FILE = path.join(SRC, 'promise.ts');
// One program for both entry points (the promise entry imports the root): reading exports needs no type check.
const program = ts.createProgram([ROOT_FILE, PROMISE_FILE], {
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  types: [],
});

/** Every name a module exports (values and types), as the compiler sees them. */
const exportedNames = (file: string): Map<string, 'value' | 'type'> => {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (symbol === undefined) throw new Error(`cannot read the exports of ${file}`);
  const names = new Map<string, 'value' | 'type'>();
  for (const s of checker.getExportsOfModule(symbol)) names.set(s.name, s.name in root || s.name in promised ? 'value' : 'type');
  return names;
};

/** The names of the tables of docs/API.md, by section, with the kind column. */
const documented = (): Map<string, { section: string; kind: string }> => {
  const out = new Map<string, { section: string; kind: string }>();
  let section = '';
  for (const line of fs.readFileSync(API_DOC, 'utf8').split('\n')) {
    const heading = /^## (.*)$/.exec(line);
    if (heading) section = heading[1] as string;
    const row = /^\| `([A-Za-z_$][\w$]*)` \| (\w+) \|/.exec(line);
    if (row) {
      if (out.has(row[1] as string)) throw new Error(`docs/API.md lists ${row[1]} twice`);
      out.set(row[1] as string, { section, kind: row[2] as string });
    }
  }
  return out;
};

const rootNames = exportedNames(ROOT_FILE);
const promiseNames = exportedNames(PROMISE_FILE);
const PROMISE_ONLY = new Set(['OrbitFailure', 'ResumeOutcome', 'Plain']);

describe('the public surface', () => {
  it('src/api/index.ts re-exports every file of src/api/, whole, and nothing else', () => {
    const files = fs
      .readdirSync(path.join(SRC, 'api'), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && e.name !== 'index.ts')
      .map((e) => `./${e.name.replace(/\.ts$/, '')}`)
      .sort();
    const text = fs.readFileSync(path.join(SRC, 'api', 'index.ts'), 'utf8');
    const statements = ts.createSourceFile('index.ts', text, ts.ScriptTarget.Latest).statements;
    const reexported = statements.map((s) => {
      const ok = ts.isExportDeclaration(s) && s.exportClause === undefined && !s.isTypeOnly && s.moduleSpecifier !== undefined;
      return ok && ts.isStringLiteral(s.moduleSpecifier) ? s.moduleSpecifier.text : `(not a re-export: ${s.getText()})`;
    });
    expect([...reexported].sort()).toEqual(files);
  });

  it('src/index.ts only re-exports: src/api/ whole, then named values and types', () => {
    const text = fs.readFileSync(path.join(SRC, 'index.ts'), 'utf8');
    const statements = ts.createSourceFile('index.ts', text, ts.ScriptTarget.Latest, true).statements;
    expect(statements.filter((s) => !ts.isExportDeclaration(s)).map((s) => s.getText())).toEqual([]);
    expect(
      statements.some((s) => ts.isExportDeclaration(s) && s.exportClause === undefined && s.getText().includes("'./api'")),
    ).toBe(true);
  });

  it('every value of the root has a counterpart in orbit-pipeline/promise, a function where the root has one', () => {
    const missing = Object.entries(root)
      .filter(([name, v]) => typeof (promised as Record<string, unknown>)[name] !== typeof v)
      .map(([name]) => name);
    expect(missing).toEqual([]);
    // Functions taking a client are wrapped (plain results), not the root's own.
    expect(promised.listRuns).not.toBe(root.listRuns);
    expect(promised.definePipeline).toBe(root.definePipeline);
  });

  it('docs/API.md lists exactly the root exports, and the promise entry adds only its own', () => {
    const docs = documented();
    const inDocs = [...docs].filter(([, d]) => !d.section.startsWith('Only in')).map(([n]) => n);
    expect([...rootNames.keys()].filter((n) => !inDocs.includes(n)).sort()).toEqual([]);
    expect(inDocs.filter((n) => !rootNames.has(n)).sort()).toEqual([]);
    const promiseOnly = [...promiseNames.keys()].filter((n) => !rootNames.has(n)).sort();
    expect(promiseOnly).toEqual([...PROMISE_ONLY].sort());
    expect([...rootNames.keys()].filter((n) => !promiseNames.has(n))).toEqual([]);
    for (const name of PROMISE_ONLY) expect(docs.get(name)?.section).toBe('Only in `orbit-pipeline/promise`');
  });

  it('docs/API.md says which names are values and which are types', () => {
    const wrong = [...documented()]
      .filter(([name, d]) => {
        const isValue = name in root || name in promised;
        return isValue ? d.kind === 'type' : d.kind !== 'type';
      })
      .map(([name, d]) => `${name} (${d.kind})`);
    expect(wrong).toEqual([]);
  });
});
