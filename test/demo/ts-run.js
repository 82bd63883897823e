/**
 * Runs the `h2g` CLI from the TypeScript sources in a plain Node process (no build, no jest sandbox):
 *   node test/demo/ts-run.js demo --out DIR
 * Each .ts file is transpiled on require with TypeScript's transpileModule (no type check; jest and
 * `npm run typecheck` do that). Tests use it for end-to-end runs because pixel loops run many times
 * slower inside jest's vm sandbox than in the real CLI.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  inlineSourceMap: true,
};

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
  module._compile(outputText, filename);
};

require(path.join(__dirname, '..', '..', 'src', 'cli', 'main.ts')).main(['node', 'h2g', ...process.argv.slice(2)]);
