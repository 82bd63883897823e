/**
 * The result cache's key: SHA-256 of the canonical JSON (keys sorted) of everything that decides a
 * segmentation's result, and nothing else. README "Batch" > "The cache key" lists it for users.
 *
 * In it: the slide's content digest (not its name or path), both model files' SHA-256 and the model
 * set's parameters, the options that change results (pixel-size override, rule set, tissue
 * threshold, smoothing, ROI), and the pipeline: the package version plus a fingerprint of the code that computes
 * and encodes results (so an upgrade that changes a rule recomputes). Not in it: batch size, threads
 * and execution provider (they change speed; results agree to float rounding, see the README's GPU
 * figures), which are recorded in each result's provenance instead.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { MultiPolygon, Polygon } from 'geojson';
import stringify from 'safe-stable-stringify';
import type { ModelParameters } from '../models/manifest';
import type { ReferenceName } from '../pipeline/types';
import { OpenSlide } from '../slide/openslide';
import { VERSION } from '../version';

/** Bumped when the layout of cache entries changes. */
export const CACHE_FORMAT = 1;

export interface ResultOptions {
  /** The --mpp override, null when the slide's own pixel size is used. */
  mpp: number | null;
  /** The rule set (pipeline/options.ts REFERENCES). */
  reference: ReferenceName;
  tissueThreshold: number;
  smoothingUm: number;
  roi: Polygon | MultiPolygon | null;
}

export interface CacheKeyInputs {
  cacheFormat: number;
  pipeline: { version: string; code: string };
  slide: { sha256: string };
  models: { patchSha256: string; refinementSha256: string; parameters: ModelParameters };
  options: ResultOptions;
}

export function canonicalJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

export function cacheKey(inputs: CacheKeyInputs): string {
  return createHash('sha256').update(canonicalJson(inputs)).digest('hex');
}

/** Modules whose code decides or encodes a result (relative to src/ or dist/). */
const RESULT_CODE = ['pipeline', 'slide', 'output', path.join('batch', 'artifacts')];
/** Native reader sources, when installed from a checkout (dist/ holds no C++). */
const NATIVE_SOURCES = path.resolve(__dirname, '..', '..', 'src', 'native');

function codeFiles(): string[] {
  const root = path.resolve(__dirname, '..');
  const files: string[] = [];
  for (const part of RESULT_CODE) {
    const dir = path.join(root, part);
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      for (const name of readdirSync(dir).sort()) {
        if (/\.(js|ts)$/.test(name) && !name.endsWith('.d.ts')) files.push(path.join(dir, name));
      }
    } else {
      for (const ext of ['.js', '.ts']) if (statSync(dir + ext, { throwIfNoEntry: false })) files.push(dir + ext);
    }
  }
  const native = statSync(NATIVE_SOURCES, { throwIfNoEntry: false });
  if (native?.isDirectory()) {
    for (const name of readdirSync(NATIVE_SOURCES).sort()) files.push(path.join(NATIVE_SOURCES, name));
  }
  return files;
}

let fingerprint: string | null = null;

/** Digest of the result-deciding code, the OpenSlide library and the onnxruntime version; once per process. */
export function pipelineCodeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const hash = createHash('sha256');
  for (const file of codeFiles()) {
    hash.update(`${path.basename(file)}\0`);
    hash.update(readFileSync(file));
  }
  hash.update(`openslide ${OpenSlide.libraryVersion()}\0`);
  const ort = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string };
  hash.update(`onnxruntime-node ${ort.version}`);
  fingerprint = hash.digest('hex');
  return fingerprint;
}

export function pipelineIdentity(): CacheKeyInputs['pipeline'] {
  return { version: VERSION, code: pipelineCodeFingerprint() };
}
