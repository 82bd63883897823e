/**
 * A slide's folder in a batch's output directory, `DIR/slides/<name>/`: `<name>.geojson`,
 * `overlay.png`, `thumbnail.png`, `heatmap.npy`, `mask.png` and `summary.json` (this slide's record:
 * status, error, figures, provenance). Artifacts are hard links to the cache entry where the file
 * system allows (no second copy of a cohort's results), else copies; every file is put in place by a
 * rename, so a folder never holds a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAtomicTemporary, writeFileAtomic } from '../output/atomic';
import { ARTIFACT_FILES, type ArtifactName, type ResultSummary } from './artifacts';
import type { CacheEntry } from './cache';

export type SlideStatus = 'ok' | 'failed' | 'pending';

export interface SlideRecord {
  schemaVersion: 1;
  name: string;
  slide: string;
  status: 'ok' | 'failed';
  error: string | null;
  /** The cohort settings the record was made under (see cohort-file.ts). */
  settingsId: string;
  /** A slide of identical content earlier in the cohort, whose result this is. */
  sameAs: string | null;
  /** The slide's content digest, when it was read (a missing file has none). */
  slideSha256: string | null;
  run: { cached: boolean; finishedAt: string; seconds: number; host: string };
  result: ResultSummary | null;
}

export const RECORD_FILE = 'summary.json';

export function slideDir(outDir: string, name: string): string {
  return path.join(outDir, 'slides', name);
}

/** Output file name of each artifact in a slide's folder. */
export function outputName(artifact: Exclude<ArtifactName, 'summary'>, name: string): string {
  return artifact === 'geojson' ? `${name}.geojson` : ARTIFACT_FILES[artifact];
}

const OUTPUT_ARTIFACTS = ['geojson', 'overlay', 'thumbnail', 'heatmap', 'mask'] as const;

async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  return !!sa && !!sb && sa.ino === sb.ino && sa.dev === sb.dev;
}

/** Puts `source` at `target` by a hard link, else a copy, through a temporary name and a rename. */
async function placeFile(source: string, target: string): Promise<void> {
  if (await sameFile(source, target)) return;
  const tmp = `${target}.${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await link(source, tmp);
  } catch {
    await copyFile(source, tmp); // another file system, or links not allowed
  }
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Removes what an interrupted earlier run left (temporary names) and, when asked, old artifacts. */
async function tidy(dir: string, name: string, removeArtifacts: boolean): Promise<void> {
  const targets = [...OUTPUT_ARTIFACTS.map((a) => outputName(a, name)), RECORD_FILE];
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    const leftover = file.endsWith('.tmp') || targets.some((t) => isAtomicTemporary(file, t));
    const artifact = removeArtifacts && targets.slice(0, -1).includes(file);
    if (leftover || artifact) await rm(path.join(dir, file), { force: true });
  }
}

export async function writeSlideResult(
  outDir: string,
  record: Omit<SlideRecord, 'schemaVersion' | 'status' | 'error' | 'result' | 'slideSha256'>,
  entry: CacheEntry,
): Promise<SlideRecord> {
  const dir = slideDir(outDir, record.name);
  await mkdir(dir, { recursive: true });
  await tidy(dir, record.name, false);
  for (const artifact of OUTPUT_ARTIFACTS) {
    await placeFile(entry.files[artifact], path.join(dir, outputName(artifact, record.name)));
  }
  const full: SlideRecord = {
    schemaVersion: 1,
    ...record,
    slideSha256: entry.summary.slide.sha256,
    status: 'ok',
    error: null,
    result: entry.summary,
  };
  await writeFileAtomic(path.join(dir, RECORD_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/**
 * Records a failure. The folder's earlier artifacts are removed (they belong to another result; it
 * stays in the cache, so nothing is lost and a later successful run puts it back).
 */
export async function writeSlideFailure(
  outDir: string,
  record: Omit<SlideRecord, 'schemaVersion' | 'status' | 'result'> & { error: string },
): Promise<SlideRecord> {
  const dir = slideDir(outDir, record.name);
  await mkdir(dir, { recursive: true });
  await tidy(dir, record.name, true);
  const full: SlideRecord = { schemaVersion: 1, ...record, status: 'failed', result: null };
  await writeFileAtomic(path.join(dir, RECORD_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** A slide's record, or null when it has none (not run yet) or an unreadable one. */
export async function readSlideRecord(outDir: string, name: string): Promise<SlideRecord | null> {
  try {
    const r = JSON.parse(await readFile(path.join(slideDir(outDir, name), RECORD_FILE), 'utf8')) as SlideRecord;
    return r.schemaVersion === 1 && (r.status === 'ok' || r.status === 'failed') ? r : null;
  } catch {
    return null;
  }
}
