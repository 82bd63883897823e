/** Shared by the batch tests: the command line of a batch with the tiny models, and reading its outputs. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { MODELS } from './paths';

export type Row = Record<string, string>;

export function batchArgs(inputs: readonly string[], out: string, cache: string, ...extra: string[]): string[] {
  return ['batch', ...inputs, '--out-dir', out, '--cache', cache, '--models', MODELS.tiny, ...extra];
}

/** cohort.csv, parsed by an independent CSV reader. */
export function table(out: string): Row[] {
  return parse(readFileSync(path.join(out, 'cohort.csv')), { columns: true });
}

export function slideFile(out: string, name: string, file: string): string {
  return path.join(out, 'slides', name, file);
}

/** A slide's summary.json, or null when it has none. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function record(out: string, name: string): any {
  const file = slideFile(out, name, 'summary.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** The keys of the cache's entries. */
export function entries(cache: string): string[] {
  return readdirSync(path.join(cache, 'entries')).flatMap((d) => readdirSync(path.join(cache, 'entries', d)));
}
