import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * A consumer compiles against dist/*.d.ts with nothing but TypeScript and Orbit's own dependencies
 * (no @types/node, no @types/pg, no skipLibCheck): scripts/consumer/run.sh proves it in CI. This
 * is the same check in seconds, so a type that drags `pg` or `Buffer` into the public surface fails
 * here first: every declaration file the entry points reach imports only relative files and the
 * packages that ship their own types, and names no Node.js global type.
 */
const DIST = path.join(__dirname, '../../dist');
const ENTRIES = ['index.d.ts', 'promise.d.ts'].map((f) => path.join(DIST, f));
const ALLOWED_PACKAGES = [/^fp-ts(\/|$)/, /^io-ts(\/|$)/];
const NODE_ONLY = [/\bBuffer\b/, /\bNodeJS\./, /\/\/\/\s*<reference\s+types=/];

interface Closure {
  readonly files: readonly string[];
  readonly packages: ReadonlyMap<string, readonly string[]>;
}

const resolveRelative = (from: string, specifier: string): string => {
  const base = path.resolve(path.dirname(from), specifier);
  const found = [`${base}.d.ts`, path.join(base, 'index.d.ts')].find((f) => fs.existsSync(f));
  if (found === undefined) throw new Error(`${path.relative(DIST, from)} imports ${specifier}, which has no .d.ts`);
  return found;
};

/** Every .d.ts the entries reach, and which files import each non-relative module. */
const closure = (): Closure => {
  const seen = new Set<string>();
  const packages = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const specifier = m[1] as string;
      if (specifier.startsWith('.')) visit(resolveRelative(file, specifier));
      else packages.set(specifier, [...(packages.get(specifier) ?? []), path.relative(DIST, file)]);
    }
  };
  ENTRIES.forEach(visit);
  return { files: [...seen], packages };
};

describe('the published declarations', () => {
  const built = ENTRIES.every((f) => fs.existsSync(f));

  it('exist (npm test builds dist/ first; run `npm run build` before running this file alone)', () => {
    expect(built).toBe(true);
  });

  it('import no package but fp-ts and io-ts (no pg, no pg-listen, no node: modules)', () => {
    const { packages } = closure();
    const foreign = [...packages].filter(([p]) => !ALLOWED_PACKAGES.some((re) => re.test(p)));
    expect(foreign.map(([p, files]) => `${p} (from ${files.join(', ')})`)).toEqual([]);
  });

  it('name no Node.js-only type (Buffer, NodeJS.*, a types reference)', () => {
    const { files } = closure();
    const offending = files.flatMap((f) => {
      const text = fs.readFileSync(f, 'utf8');
      return NODE_ONLY.filter((re) => re.test(text)).map((re) => `${path.relative(DIST, f)}: ${re.source}`);
    });
    expect(files.length).toBeGreaterThan(10);
    expect(offending).toEqual([]);
  });
});
