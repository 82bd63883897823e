'use strict';
/** What the benchmarks' option parsers share: integer options and `--help` from the file's header. */
const fs = require('node:fs');

/** `value` as an integer >= `min`, else an error naming the option `name`. */
function integerArg(name, value, min) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

/** Prints the first doc comment of `file` (the benchmark's header: what it does, its options) and exits. */
function printHeaderAndExit(file) {
  const text = fs.readFileSync(file, 'utf8');
  const start = text.indexOf('/**');
  process.stdout.write(text.slice(start, text.indexOf('*/', start) + 2) + '\n');
  process.exit(0);
}

module.exports = { integerArg, printHeaderAndExit };
