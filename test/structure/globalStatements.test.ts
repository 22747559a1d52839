import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/*
 * Every SQL statement in src/queries/ either filters on a run id (it can be routed to the one
 * place a run lives once the tables are distributed by run_id) or is a global statement listed,
 * with why, in docs/DESIGN-SCALE.md ("Global statements"). A new global statement is a conscious
 * choice: add its row to that table (the test says which). Static analysis of the SQL text; the
 * tables keyed by run id and the functions that take run ids are read from sql/schema.snapshot.sql.
 */
const ROOT = path.join(__dirname, '../..');
const QUERIES = path.join(ROOT, 'src/queries');
const DOC = path.join(ROOT, 'docs/DESIGN-SCALE.md');
const SNAPSHOT = path.join(ROOT, 'sql/schema.snapshot.sql');

/** A literal is a statement when its SQL (after leading comments) starts with one of these. */
const STATEMENT_START =
  /^(?:\s|--[^\n]*\n)*(SELECT|INSERT|UPDATE|DELETE|WITH|LISTEN|UNLISTEN|NOTIFY|CREATE|ALTER|DROP|LOCK|TRUNCATE|SET|SHOW|CALL|DO|VALUES)\b/i;

interface Statement {
  /** The top-level declaration (exported query function or constant) that holds the statement. */
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /** The SQL with `${db.qs}`-like schema references as `orbit.` and local string constants inlined. */
  readonly sql: string;
}

interface Schema {
  /** Tables with a run_id column, and runs (keyed by id). */
  readonly runTables: ReadonlySet<string>;
  /** Tables with an `id` column that is not a run id (workers, registry, ledger...). */
  readonly otherIdTables: ReadonlySet<string>;
  /** Schema functions with a p_run_id or p_run_ids parameter. */
  readonly runFunctions: ReadonlySet<string>;
}

/** Reads which tables and functions are keyed by run id from a pg_dump-style schema. */
const schemaOf = (dump: string): Schema => {
  const runTables = new Set<string>();
  const otherIdTables = new Set<string>();
  for (const m of dump.matchAll(/CREATE TABLE __SCHEMA__\.(\w+) \(([\s\S]*?)\n\);/g)) {
    const [, table = '', body = ''] = m;
    const cols = body.split('\n').map((l) => l.trim().split(/\s+/)[0]);
    if (table === 'runs' || cols.includes('run_id')) runTables.add(table);
    else if (cols.includes('id')) otherIdTables.add(table);
  }
  const runFunctions = new Set<string>();
  for (const m of dump.matchAll(/CREATE FUNCTION __SCHEMA__\.(\w+)\(([^)]*)\)/g)) {
    const [, fn = '', params = ''] = m;
    if (/\bp_run_ids?\b/.test(params)) runFunctions.add(fn);
  }
  return { runTables, otherIdTables, runFunctions };
};

/** The value of a top-level string constant (a literal, a template without substitutions, or `+` of those). */
const constantText = (node: ts.Expression): string | null => {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node)) return constantText(node.expression);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const l = constantText(node.left);
    const r = constantText(node.right);
    return l === null || r === null ? null : l + r;
  }
  return null;
};

/** Every SQL statement in one TypeScript source. */
const statementsOf = (file: string, text: string): Statement[] => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const constants = new Map<string, string>();
  for (const st of source.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      const value = d.initializer === undefined ? null : constantText(d.initializer);
      if (ts.isIdentifier(d.name) && value !== null) constants.set(d.name.text, value);
    }
  }
  const substitute = (e: ts.Expression): string => {
    const t = e.getText(source);
    if (/^(?:db|database)\.qs$|^qs$/.test(t)) return 'orbit';
    if (ts.isIdentifier(e) && constants.has(e.text)) return constants.get(e.text) ?? '';
    if (ts.isIdentifier(e)) {
      // A parameter typed as a union of string literals ('runs' | 'steps'): {runs|steps}.
      for (let n: ts.Node | undefined = e.parent; n !== undefined; n = n.parent) {
        if (!ts.isArrowFunction(n) && !ts.isFunctionDeclaration(n) && !ts.isFunctionExpression(n)) continue;
        const param = n.parameters.find((p) => ts.isIdentifier(p.name) && p.name.text === e.text);
        const type = param?.type;
        if (type === undefined) continue;
        const members = ts.isUnionTypeNode(type) ? [...type.types] : [type];
        const values = members.map((m) => (ts.isLiteralTypeNode(m) && ts.isStringLiteral(m.literal) ? m.literal.text : null));
        if (values.every((v) => v !== null)) return `{${values.join('|')}}`;
      }
    }
    return '«expr»';
  };
  const out: Statement[] = [];
  const visit = (node: ts.Node, name: string): void => {
    let sql: string | null = null;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) sql = node.text;
    else if (ts.isTemplateExpression(node))
      sql = node.head.text + node.templateSpans.map((s) => substitute(s.expression) + s.literal.text).join('');
    if (sql !== null) {
      if (STATEMENT_START.test(sql)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        out.push({
          name,
          file,
          line,
          sql: sql
            .replace(/--[^\n]*/g, ' ')
            .replace(/\s+/g, ' ')
            .trim(),
        });
      }
      return;
    }
    ts.forEachChild(node, (c) => visit(c, name));
  };
  for (const st of source.statements) {
    let name = '(module)';
    if (ts.isVariableStatement(st)) {
      const d = st.declarationList.declarations[0];
      if (d !== undefined && ts.isIdentifier(d.name)) name = d.name.text;
    } else if (ts.isFunctionDeclaration(st) && st.name !== undefined) name = st.name.text;
    visit(st, name);
  }
  return out;
};

/**
 * The reason a statement is keyed by run id, or null when it is global:
 * - `run_id = $n` / `run_id = ANY($n)` (or `id` of runs), unless `$n IS NULL` makes it optional or it is negated;
 * - parameter rows with a run_id column (`unnest($n…) AS x(run_id, …)`, `jsonb_to_recordset`);
 * - an INSERT into a run-keyed table (each row carries its run id);
 * - a call of a schema function that takes p_run_id / p_run_ids.
 */
const runKey = (sql: string, schema: Schema): string | null => {
  const optional = (n: string) => new RegExp(`\\$${n}(?:::[\\w\\[\\]]+)?\\s+IS\\s+NULL\\b`, 'i').test(sql);
  const tablesIn = [...sql.matchAll(/\borbit\.(\w+)\b(?!\s*\()(?:\s+(?:AS\s+)?(\w+))?/gi)].map((m) => ({
    table: m[1] ?? '',
    alias: m[2],
  }));
  const runsAliases = new Set(tablesIn.filter((t) => t.table === 'runs').flatMap((t) => ['runs', t.alias ?? 'runs']));
  const otherIdTable = tablesIn.some((t) => schema.otherIdTables.has(t.table));
  for (const m of sql.matchAll(/(?:\b(\w+)\.)?\b(run_id|id)\s*=\s*(?:ANY\s*\(\s*)?\$(\d+)/gi)) {
    const [, qualifier, column = '', n = ''] = m;
    if (optional(n) || /\bNOT\s*\(?\s*$/i.test(sql.slice(0, m.index))) continue;
    if (column.toLowerCase() === 'run_id') return `run_id = $${n}`;
    if (qualifier !== undefined ? runsAliases.has(qualifier) : runsAliases.size > 0 && !otherIdTable) return `runs.id = $${n}`;
  }
  for (const m of sql.matchAll(
    /\b(?:unnest|jsonb_to_recordset|jsonb_populate_recordset)\s*\(\s*\$(\d+)[^)]*\)\s*(?:WITH ORDINALITY\s*)?(?:AS\s+)?\w+\s*\(([^)]*)\)/gi,
  )) {
    const [, n = '', columns = ''] = m;
    if (optional(n)) continue;
    if (columns.split(',').some((c) => c.trim().split(/\s+/)[0] === 'run_id')) return `rows of $${n} carry run_id`;
  }
  for (const m of sql.matchAll(/\bINSERT\s+INTO\s+orbit\.(\w+|\{[\w|]+\})/gi)) {
    const [, table = ''] = m;
    if (
      table
        .replace(/[{}]/g, '')
        .split('|')
        .every((t) => schema.runTables.has(t))
    )
      return `INSERT INTO ${table}`;
  }
  for (const m of sql.matchAll(/\borbit\.(\w+)\s*\(/gi)) {
    const [, fn = ''] = m;
    if (schema.runFunctions.has(fn)) return `${fn}(run ids)`;
  }
  return null;
};

interface GlobalEntry {
  readonly name: string;
  readonly scope: string;
  readonly why: string;
}

/** The rows of the table between `<!-- global-statements:begin -->` and `<!-- global-statements:end -->`. */
const documentedGlobals = (doc: string): GlobalEntry[] => {
  const block = /<!-- global-statements:begin -->([\s\S]*?)<!-- global-statements:end -->/.exec(doc);
  if (block === null) return [];
  return (block[1] ?? '')
    .split('\n')
    .filter((l) => /^\|\s*`/.test(l))
    .map((l) => {
      const cells = l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return { name: (cells[0] ?? '').replace(/`/g, ''), scope: cells[1] ?? '', why: cells[2] ?? '' };
    });
};

const allStatements = (): Statement[] =>
  fs
    .readdirSync(QUERIES)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .flatMap((f) => statementsOf(f, fs.readFileSync(path.join(QUERIES, f), 'utf8')));

describe('global statements (docs/DESIGN-SCALE.md)', () => {
  const schema = schemaOf(fs.readFileSync(SNAPSHOT, 'utf8'));
  const key = (sql: string) => runKey(sql, schema);

  it('reads the run-keyed tables and functions from the schema snapshot', () => {
    expect([...schema.runTables].sort()).toEqual(expect.arrayContaining(['run_events', 'runs', 'steps']));
    expect(schema.runTables.has('workers')).toBe(false);
    expect(schema.otherIdTables.has('workers')).toBe(true);
    expect(schema.runFunctions.has('append_run_events')).toBe(true);
    expect(schema.runFunctions.has('run_liveness')).toBe(false);
  });

  it('tells run-keyed statements from global ones (sanity check of the check itself)', () => {
    expect(key('SELECT * FROM orbit.run_events WHERE run_id = $1 AND seq > $2')).not.toBeNull();
    expect(key('SELECT 1 FROM orbit.runs WHERE id = ANY($1::text[]) FOR UPDATE')).not.toBeNull();
    expect(
      key('SELECT l.verdict FROM orbit.runs r CROSS JOIN LATERAL orbit.run_liveness(r, $2) l WHERE r.id = $1'),
    ).not.toBeNull();
    expect(
      key('SELECT * FROM unnest($1::text[], $2::int[]) AS c(run_id, seq) JOIN orbit.run_events e ON e.run_id = c.run_id'),
    ).not.toBeNull();
    expect(key('INSERT INTO orbit.steps (run_id, name) VALUES ($1, $2)')).not.toBeNull();
    expect(key('SELECT outcome FROM orbit.append_run_events($1, $2)')).not.toBeNull();
    // Global: an optional filter, a join on run_id without a parameter, a keyset, other tables' ids.
    expect(key('SELECT * FROM orbit.run_events e WHERE ($1::text[] IS NULL OR e.run_id = ANY($1))')).toBeNull();
    expect(key('SELECT * FROM orbit.runs r JOIN orbit.steps s ON s.run_id = r.id WHERE r.status = $1')).toBeNull();
    expect(key('SELECT DISTINCT run_id FROM orbit.run_events WHERE run_id > $1 LIMIT $2')).toBeNull();
    expect(key('DELETE FROM orbit.workers WHERE id = $1')).toBeNull();
    expect(key('SELECT run_id FROM orbit.run_events WHERE seq = 1 AND NOT (run_id = ANY($3::text[]))')).toBeNull();
    expect(
      key('SELECT r.id FROM orbit.runs r WHERE r.status = $1 AND EXISTS (SELECT 1 FROM orbit.workers w WHERE w.id = $2)'),
    ).toBeNull();
    expect(key('SELECT pg_notify($1, $2)')).toBeNull();
  });

  it('finds statements in template literals, with schema references and local constants inlined, and skips fragments', () => {
    const sample = [
      "const COLS = 'run_id text, ' + 'seq int';",
      'export const q = (db) => db.query(`SELECT * FROM ${db.qs}.runs WHERE id = $1`);',
      'export const b = (db) => db.query(`SELECT * FROM jsonb_to_recordset($1) AS b(${COLS})`);',
      "export const fragment = (qs) => `r.status = 'pending' AND NOT EXISTS (SELECT 1 FROM ${qs}.workers)`;",
      "export const n = (db) => db.query('SELECT now() AS now');",
      "const ins = (table: 'runs' | 'steps') => (db) => db.query(`INSERT INTO ${db.qs}.${table} (a) VALUES ($1)`);",
      "const w = (table: 'runs' | 'workers') => (db) => db.query(`INSERT INTO ${db.qs}.${table} (a) VALUES ($1)`);",
    ].join('\n');
    const found = statementsOf('sample.ts', sample);
    expect(found.map((s) => [s.name, s.sql])).toEqual([
      ['q', 'SELECT * FROM orbit.runs WHERE id = $1'],
      ['b', 'SELECT * FROM jsonb_to_recordset($1) AS b(run_id text, seq int)'],
      ['n', 'SELECT now() AS now'],
      ['ins', 'INSERT INTO orbit.{runs|steps} (a) VALUES ($1)'],
      ['w', 'INSERT INTO orbit.{runs|workers} (a) VALUES ($1)'],
    ]);
    expect(found.map((s) => key(s.sql) !== null)).toEqual([true, true, false, true, false]);
  });

  it('every statement of src/queries/ that does not filter on a run id is listed in docs/DESIGN-SCALE.md, and nothing else is', () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(50);
    const globals = [...new Set(statements.filter((s) => key(s.sql) === null).map((s) => s.name))].sort();
    const listed = documentedGlobals(fs.readFileSync(DOC, 'utf8'));
    const listedNames = listed.map((e) => e.name);
    const unlisted = globals.filter((n) => !listedNames.includes(n));
    const stale = listedNames.filter((n) => !globals.includes(n));
    // A failure here: add a row `| \`<name>\` | <scope> | <why it is global, what it becomes on Citus> |`
    // to the "Global statements" table of docs/DESIGN-SCALE.md, or filter the statement on a run id;
    // remove a row whose statement is gone or now keyed by run id.
    expect({ 'unlisted: add a row to docs/DESIGN-SCALE.md': unlisted, 'stale: remove the row': stale }).toEqual({
      'unlisted: add a row to docs/DESIGN-SCALE.md': [],
      'stale: remove the row': [],
    });
    expect(listedNames.length).toBe(new Set(listedNames).size);
    for (const e of listed) expect(e.scope !== '' && e.why !== '' ? e.name : `${e.name}: scope and why`).toBe(e.name);
  });

  it('classifies the core run-keyed statements as keyed (the append path, reads of one run, the lock of runs rows)', () => {
    const byName = new Map<string, Statement[]>();
    for (const s of allStatements()) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    for (const name of [
      'appendRunEvents',
      'appendRunEventsBatch',
      'readRunEventRows',
      'readRunRow',
      'lockRunRows',
      'readStepRows',
    ]) {
      const found = byName.get(name) ?? [];
      expect(found.length > 0 && found.every((s) => key(s.sql) !== null) ? name : `${name}: not keyed`).toBe(name);
    }
  });
});
