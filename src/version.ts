/** The package version, read once from package.json (one level above both src/ and dist/). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const VERSION: string = (
  JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;
