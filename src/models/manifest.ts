/**
 * The model-set manifest, `h2g-models.json`, beside the model files. Optional: a directory holding the
 * two published file names works without one. Schema documented in README ("Model sets").
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ModelError } from './errors';

export const MANIFEST_FILE = 'h2g-models.json';

export const PUBLISHED_FILES = {
  patch: 'patchwise_mobilenet_network_breast_cancer.onnx',
  refinement: 'refinement_network_breast_cancer.onnx',
} as const;

const FileEntrySchema = z
  .object({
    file: z
      .string()
      .min(1)
      .refine((f) => path.basename(f) === f, 'must be a file name inside the model directory'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
      .optional(),
    size: z.number().int().positive().optional(),
  })
  .strict();

export const ParametersSchema = z
  .object({
    /** Patch side in pixels at the patch magnification. */
    patchSize: z.number().int().min(16).max(4096).default(256),
    /** Pixel size of the patches in um/px (FAST's 10x = 1.0). */
    patchMpp: z.number().positive().max(100).default(1.0),
    /** Side of the refinement network's square input and output. */
    refinementSize: z.number().int().min(16).max(8192).default(1024),
    /** Softmax channel that holds the tumour probability, in both models. */
    tumourChannel: z.number().int().min(0).max(1).default(1),
  })
  .strict();

/** How a `trained:` set was made (written by the trainer in train/, kept by `h2g models import`). */
export const TrainingSchema = z
  .object({
    /** The dataset file's `name`. */
    dataset: z.string().min(1),
    datasetFile: z.string().optional(),
    /** SHA-256 over the dataset file, its annotation files and its slides' sizes (the trainer's digest). */
    datasetSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
    trainer: z.string().min(1),
    createdAt: z.string().min(1),
    /** Every training parameter (the trainer's TrainConfig). */
    parameters: z.record(z.string(), z.unknown()),
    environment: z.record(z.string(), z.string()).optional(),
    splits: z.record(z.string(), z.number().int().nonnegative()).optional(),
    /** Validation figures of the chosen epochs. */
    results: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const ManifestSchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** Untrained demo weights: results are marked as clinically meaningless. */
    demo: z.boolean().default(false),
    /** Where the files came from (a URL, "import:<path>", "generated"). */
    source: z.string().optional(),
    installedAt: z.string().optional(),
    files: z.object({ patch: FileEntrySchema, refinement: FileEntrySchema }).strict(),
    parameters: ParametersSchema.default(ParametersSchema.parse({})),
    training: TrainingSchema.optional(),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ModelParameters = z.infer<typeof ParametersSchema>;
export type TrainingRecord = z.infer<typeof TrainingSchema>;

export function defaultManifest(): Manifest {
  return ManifestSchema.parse({
    schemaVersion: 1,
    files: { patch: { file: PUBLISHED_FILES.patch }, refinement: { file: PUBLISHED_FILES.refinement } },
  });
}

/** The directory's manifest, or the published defaults when it has none. */
export async function readManifest(dir: string): Promise<{ manifest: Manifest; fromFile: boolean }> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: defaultManifest(), fromFile: false };
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelError('MANIFEST_INVALID', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelError('MANIFEST_INVALID', `${file} is not a valid model manifest: ${issues}`);
  }
  return { manifest: parsed.data, fromFile: true };
}
