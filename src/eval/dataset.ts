/**
 * The training dataset file (schema version 1, README "Training": the contract shared with the trainer
 * in train/ and QuPath's "Export training data"). Unknown keys are refused so typos surface; paths are
 * resolved against the file's folder and checked to exist when the file is read.
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export const SPLITS = ['train', 'val', 'test'] as const;

const SlideSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, "may only hold letters, digits, '.', '_' and '-'"),
    slide: z.string().min(1),
    annotations: z.string().min(1),
    mpp: z.number().positive().max(100).optional(),
    group: z.string().min(1).optional(),
    split: z.enum(SPLITS).optional(),
  })
  .strict();

export const DatasetSchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    createdBy: z.string().min(1).optional(),
    slides: z.array(SlideSchema).min(1),
  })
  .strict()
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.slides.forEach((s, i) => {
      if (seen.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['slides', i, 'id'], message: `'${s.id}' appears twice` });
      seen.add(s.id);
    });
  });

export type DatasetSlide = z.infer<typeof SlideSchema>;
export interface Dataset {
  file: string;
  name: string;
  slides: DatasetSlide[];
}

function resolvePath(base: string, p: string): string {
  const expanded = p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
  return path.resolve(base, expanded);
}

async function checkFile(file: string, where: string): Promise<void> {
  const st = await stat(file).catch(() => null);
  if (!st) throw new DatasetError(`${where}: no such file: ${file}`);
  if (!st.isFile()) throw new DatasetError(`${where}: not a regular file: ${file}`);
}

/** The dataset with every slide and annotation path absolute and checked to exist. */
export async function readDataset(file: string): Promise<Dataset> {
  const full = path.resolve(file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(code === 'ENOENT' ? `no such dataset file: ${full}` : (err as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`${full} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = DatasetSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DatasetError(`${full} is not a valid dataset file: ${issues}`);
  }
  const base = path.dirname(full);
  const slides: DatasetSlide[] = [];
  for (const [i, s] of parsed.data.slides.entries()) {
    const where = `${full}: slides.${i} (${s.id})`;
    const entry = { ...s, slide: resolvePath(base, s.slide), annotations: resolvePath(base, s.annotations) };
    await checkFile(entry.slide, `${where}.slide`);
    await checkFile(entry.annotations, `${where}.annotations`);
    slides.push(entry);
  }
  return { file: full, name: parsed.data.name, slides };
}
