'use strict';
/**
 * Lets plain `node` require this project's TypeScript sources, for tests that spawn real
 * processes (crash and concurrency tests):
 *
 *   spawn(process.execPath, ['--require', require.resolve('../support/registerTs.js'), 'src/cli/main.ts', ...])
 *
 * Each .ts file is transpiled on load with `typescript.transpileModule` (CommonJS, ES2022,
 * no type checking: `tsc --noEmit` does that). `require('./x')` finds `x.ts` because Node
 * tries every registered extension. Inline source maps keep stack traces pointing at the
 * .ts lines. Limits of per-file transpiling: no `const enum` across files, no path aliases.
 */
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  resolveJsonModule: true,
  inlineSourceMap: true,
};

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function compileTs(module, filename) {
    if (filename.endsWith('.d.ts')) {
      module._compile('', filename);
      return;
    }
    const source = fs.readFileSync(filename, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions,
      reportDiagnostics: false,
    });
    module._compile(outputText, filename);
  };
  // Node maps stack traces through the inline maps only when asked to.
  if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);
}

module.exports = { projectRoot: path.resolve(__dirname, '..', '..') };
