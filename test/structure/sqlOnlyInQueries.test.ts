import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/*
 * Every SQL statement lives in src/queries/, one file per query (docs/ARCHITECTURE.md, "Adding a
 * query"); migrations live in sql/. A string or template literal anywhere else in src/ that holds
 * a DML keyword is a statement that escaped the query layer.
 */
const SRC = path.join(__dirname, '../../src');
const SQL_KEYWORD = /\b(SELECT|INSERT|UPDATE|DELETE)\b/;

// Files allowed to hold SQL outside src/queries/ (none: the append path's moved to queries/appendEvents.ts).
const ALLOWED: ReadonlySet<string> = new Set<string>();

/** The text of every string literal and template literal part in a TypeScript source, with its line. */
const literalsOf = (file: string, text: string): { line: number; text: string }[] => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const add = (node: ts.Node, value: string) =>
    out.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text: value });
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) add(node, node.text);
    else if (ts.isTemplateExpression(node)) {
      add(node.head, node.head.text);
      for (const span of node.templateSpans) add(span.literal, span.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
};

const sqlOutsideQueries = (root: string, allowed: ReadonlySet<string>): string[] => {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      const rel = path.relative(root, p);
      if (entry.isDirectory()) {
        if (rel !== 'queries') walk(p);
      } else if (entry.name.endsWith('.ts') && !allowed.has(rel)) {
        for (const lit of literalsOf(p, fs.readFileSync(p, 'utf8'))) {
          if (SQL_KEYWORD.test(lit.text)) found.push(`${rel}:${lit.line}: ${lit.text.trim().split('\n')[0]}`);
        }
      }
    }
  };
  walk(root);
  return found.sort();
};

describe('SQL in src/', () => {
  it('finds SQL in string and template literals, and not in comments or prose (sanity check of the check itself)', () => {
    const sample = [
      '// SELECT in a comment is fine',
      "const a = 'Select a run';",
      'const b = `SELECT * FROM ${qs}.runs`;',
      "const c = client.query('DELETE FROM t');",
      'const d = `${qs} WHERE id = $1; UPDATE x`;',
      'const e = `plain ${x} text`;',
    ].join('\n');
    const hits = literalsOf('sample.ts', sample)
      .filter((l) => SQL_KEYWORD.test(l.text))
      .map((l) => l.line);
    expect(hits).toEqual([3, 4, 5]);
  });

  it('the allow-listed files exist (drop an entry once its file has no SQL)', () => {
    for (const rel of ALLOWED) expect(fs.existsSync(path.join(SRC, rel))).toBe(true);
  });

  it('has no SQL outside src/queries/', () => {
    expect(sqlOutsideQueries(SRC, ALLOWED)).toEqual([]);
  });
});
