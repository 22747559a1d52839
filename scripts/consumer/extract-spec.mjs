// Extracts every TypeScript block of the recovery spec into a module of its own, so that
// scripts/consumer/run.sh can compile each strictly against `orbit-pipeline/promise` and run the
// recovery ones. Blocks are changed only where they could not stand alone: the package name gets
// its `/promise` entry point, user functions come from declared stubs, and a bare step literal
// (`{ name, handler }` at the start of a line) is collected into a `StepDefinition[]`.
// With --as-is (the README), blocks are written unchanged (```ts as .ts, ```js as .cjs) and all run.
// With --as-is --ts-only --prefix <p> (docs/*.md), only the TypeScript blocks, named <p>block-NN.ts,
// to be compiled, not run; a page without one writes nothing.
// Usage: node extract-spec.mjs [--as-is [--ts-only] [--prefix <p>]] <file.md> <out-dir>; prints the run-worthy block files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const asIs = flag('--as-is');
const tsOnly = flag('--ts-only');
const prefix = option('--prefix') ?? '';
const [specPath, outDir] = args;
if (!specPath || !outDir) {
  console.error('usage: node extract-spec.mjs [--as-is] <file.md> <out-dir>');
  process.exit(2);
}

const STUBS = ['db', 'redis', 'performImport', 'sendNotification', 'paymentGateway', 'emailService', 'emailLog'];
const LOG_STUBS = ['runId', 'pipelineName', 'stepsExecuted', 'error'];
const LIBRARY = ['definePipeline', 'StepContext', 'StepDefinition'];

const blocks = [];
let current = null;
readFileSync(specPath, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    const open = /^```(typescript|ts|js)\s*$/.exec(line);
    if (current === null && open && ((asIs && !tsOnly) || open[1] !== 'js')) current = { line: i + 1, lang: open[1], body: [] };
    else if (current !== null && /^```\s*$/.test(line)) {
      blocks.push(current);
      current = null;
    } else if (current !== null) current.body.push(line);
  });
if (blocks.length === 0) {
  if (tsOnly) process.exit(0);
  throw new Error(`no TypeScript blocks in ${specPath}`);
}

if (asIs) {
  mkdirSync(outDir, { recursive: true });
  const files = blocks.map((block, n) => {
    const name = `${prefix}block-${String(n + 1).padStart(2, '0')}.${block.lang === 'js' ? 'cjs' : 'ts'}`;
    const header = tsOnly ? `// ${specPath} line ${block.line}\n` : '';
    writeFileSync(join(outDir, name), header + block.body.join('\n') + '\n');
    return name;
  });
  console.log(files.join('\n'));
  process.exit(0);
}

mkdirSync(join(outDir, 'pipelines'), { recursive: true });
// Block "Pipeline must be registered" imports a user's pipeline module.
writeFileSync(
  join(outDir, 'pipelines', 'my-pipeline.ts'),
  "import { definePipeline } from 'orbit-pipeline/promise';\n" +
    "export default definePipeline({ name: 'my-pipeline', steps: [{ name: 'only', handler: () => ({ success: true }) }] });\n",
);

const uses = (text, name) => new RegExp(`(^|[^.\\w'"])${name}\\b`).test(text);
const toRun = [];
blocks.forEach((block, n) => {
  let text = block.body.join('\n').replace(/from 'orbit-pipeline'/g, "from 'orbit-pipeline/promise'");
  const imported = new Set(
    [...text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim())),
  );
  // The statement position parses `{ name: ..., handler: ... }` as a block; make it a literal.
  const bare = /^\{\s*$/m.test(text);
  if (bare) text = text.replace(/^\{\s*$/gm, 'steps.push({').replace(/^\}\s*$/gm, '});');
  const prelude = [];
  const lib = LIBRARY.filter((name) => !imported.has(name) && (uses(text, name) || (bare && name === 'StepDefinition')));
  if (lib.length > 0) prelude.push(`import { ${lib.join(', ')} } from 'orbit-pipeline/promise';`);
  const stubs = [...STUBS, ...LOG_STUBS].filter((name) => uses(text, name) && !new RegExp(`(const|let) ${name}\\b`).test(text));
  if (stubs.length > 0) prelude.push(`import { ${stubs.join(', ')} } from './stubs.js';`);
  if (bare) prelude.push('const steps: StepDefinition[] = [];');
  const name = `block-${String(n + 1).padStart(2, '0')}`;
  const header = `// ${specPath} line ${block.line}\n`;
  writeFileSync(join(outDir, `${name}.ts`), header + [...prelude, text, bare ? 'void steps;' : '', 'export {};', ''].join('\n'));
  // The recovery API blocks talk to the database; the rest only need to compile.
  if (/detectInterruptedRuns\(/.test(text)) toRun.push(`${name}.js`);
});
console.log(toRun.join('\n'));
