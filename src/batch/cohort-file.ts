/**
 * `DIR/.h2g/cohort.json`: the cohort a batch writing into DIR was last started with (its slides and
 * the settings that decide results). The table and the report are made from it and the per-slide
 * `summary.json` files, so a local run, a Slurm array's merge and a later `h2g batch --merge` agree.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../output/atomic';
import { canonicalJson, type CacheKeyInputs } from './cache-key';
import type { CohortSlide } from './inputs';

/** Everything in a cache key except the slide: equal settings ids mean comparable results. */
export type CohortSettings = Omit<CacheKeyInputs, 'slide'> & { modelSet: string; demo: boolean };

export interface CohortFile {
  schemaVersion: 1;
  createdAt: string;
  settingsId: string;
  settings: CohortSettings;
  slides: CohortSlide[];
  /** A Slurm submission's array task of each slide (same order as `slides`). */
  shards?: number[];
}

const Slide = z.object({ name: z.string(), path: z.string(), origin: z.string(), problem: z.string().nullable() });
const CohortSchema = z.object({
  schemaVersion: z.literal(1),
  createdAt: z.string(),
  settingsId: z.string(),
  settings: z.record(z.string(), z.unknown()),
  slides: z.array(Slide),
  shards: z.array(z.number().int().min(0)).optional(),
});

export function settingsId(settings: CohortSettings): string {
  // The set's name and demo flag describe the models; their digests decide.
  const decisive = {
    cacheFormat: settings.cacheFormat,
    pipeline: settings.pipeline,
    models: settings.models,
    options: settings.options,
  };
  return createHash('sha256').update(canonicalJson(decisive)).digest('hex').slice(0, 16);
}

export function stateDir(outDir: string): string {
  return path.join(outDir, '.h2g');
}

export function cohortFilePath(outDir: string): string {
  return path.join(stateDir(outDir), 'cohort.json');
}

export function makeCohortFile(slides: CohortSlide[], settings: CohortSettings): CohortFile {
  return { schemaVersion: 1, createdAt: new Date().toISOString(), settingsId: settingsId(settings), settings, slides };
}

export async function writeCohortFile(file: string, cohort: CohortFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(cohort, null, 2)}\n`);
}

export async function readCohortFile(file: string): Promise<CohortFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the cohort file ${file}: ${(err as Error).message}`);
  }
  const parsed = CohortSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a cohort file written by h2g batch`);
  return parsed.data as unknown as CohortFile;
}
