import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/*
 * Every setting and the clock are on the client (docs/API.md, "Shape"): connect() resolves them
 * once (options > environment > defaults) and the CLI's config adds flags and the config file.
 * Below src/runtime/ and src/cli/, no code reads `process.env` or the wall clock (`Date.now()`,
 * `new Date()` without an argument, `performance.now()`): it takes the client's settings and
 * `Clock`, so a test can inject them, and no decision depends on a process's own environment.
 */
const SRC = path.join(__dirname, '../../src');

/** Folders that resolve settings (the edge) and the one module that reads the clock. */
const ALLOWED_FOLDERS = ['runtime', 'cli'];
const ALLOWED_FILES: ReadonlySet<string> = new Set([path.join('util', 'clock.ts')]);

/** Reads of the environment or the wall clock in a source text, with their lines. */
export const ambientReads = (file: string, text: string): { line: number; what: string }[] => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: { line: number; what: string }[] = [];
  const at = (node: ts.Node, what: string) =>
    out.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, what });
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      if (/^process(\.env|\[['"]env['"]\])$/.test(node.getText(source))) at(node, 'process.env');
    }
    // `const { env } = process`
    if (
      ts.isVariableDeclaration(node) &&
      node.initializer?.getText(source) === 'process' &&
      ts.isObjectBindingPattern(node.name) &&
      node.name.elements.some((e) => (e.propertyName ?? e.name).getText(source) === 'env')
    ) {
      at(node, 'process.env');
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(source);
      if (callee === 'Date.now' || callee === 'performance.now') at(node, `${callee}()`);
    }
    if (ts.isNewExpression(node) && node.expression.getText(source) === 'Date' && (node.arguments?.length ?? 0) === 0) {
      at(node, 'new Date()');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
};

const offenders = (): string[] => {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      const rel = path.relative(SRC, p);
      if (entry.isDirectory()) {
        if (!ALLOWED_FOLDERS.includes(rel)) walk(p);
      } else if (entry.name.endsWith('.ts') && !ALLOWED_FILES.has(rel)) {
        for (const r of ambientReads(p, fs.readFileSync(p, 'utf8'))) found.push(`${rel}:${r.line}: ${r.what}`);
      }
    }
  };
  walk(SRC);
  return found.sort();
};

describe('settings and the clock come from the client', () => {
  it('finds reads of the environment and the wall clock, not conversions or prose (sanity check of the check itself)', () => {
    const sample = [
      '// process.env and Date.now() in a comment are fine',
      'const a = process.env.ORBIT_LEASE;',
      'const b = Date.now();',
      'const c = new Date();',
      'const d = new Date(iso).getTime();',
      "const e = 'Date.now() in a string';",
      'const { env } = process;',
      'const f = performance.now();',
    ].join('\n');
    expect(ambientReads('sample.ts', sample).map((r) => `${r.line} ${r.what}`)).toEqual([
      '2 process.env',
      '3 Date.now()',
      '4 new Date()',
      '7 process.env',
      '8 performance.now()',
    ]);
  });

  it('the allowed folders and files exist', () => {
    for (const f of ALLOWED_FOLDERS) expect(fs.existsSync(path.join(SRC, f))).toBe(true);
    for (const f of ALLOWED_FILES) expect(fs.existsSync(path.join(SRC, f))).toBe(true);
  });

  it('nothing outside src/runtime/, src/cli/ and src/util/clock.ts reads process.env or the wall clock', () => {
    expect(offenders()).toEqual([]);
  });
});
