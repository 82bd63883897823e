/**
 * Which files make up a slide, as far as its content digest is concerned. Most formats OpenSlide reads
 * are one file; MIRAX (.mrxs) keeps its pixels in a folder of the same name beside it, and Hamamatsu
 * VMS (.vms) lists its JPEG files in an ini-style index. The digest covers all of them, so a slide whose
 * data files changed is segmented again.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** File extensions OpenSlide 3.4/4.0 opens (lower case, with the dot); folders are searched for these. */
export const SLIDE_EXTENSIONS: readonly string[] = [
  '.svs',
  '.tif',
  '.tiff',
  '.ndpi',
  '.vms',
  '.vmu',
  '.scn',
  '.mrxs',
  '.svslide',
  '.bif',
];

export function isSlideFile(file: string): boolean {
  return SLIDE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/** VMS index keys that name data files (OpenSlide's hamamatsu.c reads the same ones). */
const VMS_FILE_KEY = /^(ImageFile(\(\d+,\d+\))?|MapFile|OptimisationFile)$/i;

/** The slide file first, then its companion files in a stable order. */
export async function slideFiles(file: string): Promise<string[]> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mrxs') {
    const dataDir = file.slice(0, -ext.length);
    const names = await readdir(dataDir).catch(() => [] as string[]);
    return [file, ...names.sort().map((n) => path.join(dataDir, n))];
  }
  if (ext === '.vms') {
    const text = await readFile(file, 'latin1');
    const names = new Set<string>();
    for (const line of text.split(/\r?\n/)) {
      const m = /^\s*([^=;#]+?)\s*=\s*(.+?)\s*$/.exec(line);
      if (m && VMS_FILE_KEY.test(m[1]!)) names.add(m[2]!);
    }
    return [file, ...[...names].sort().map((n) => path.join(path.dirname(file), n))];
  }
  return [file];
}
