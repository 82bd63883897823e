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

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

const FileEntrySchema = z
  .object({
    file: z
      .string()
      .min(1)
      .refine((f) => path.basename(f) === f, 'must be a file name inside the model directory'),
    sha256: Sha256Schema.optional(),
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

/** The arithmetic of the patch model: float32 (the reference's) or int8 (`h2g models quantize`). */
export const PRECISIONS = ['float32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** A slide the quantization read, identified by its file's SHA-256 (paths differ between machines). */
const SlideRecordSchema = z
  .object({ file: z.string().min(1), sha256: Sha256Schema, patches: z.number().int().min(0) })
  .strict();

const AgreementSchema = z
  .object({
    /** Validation slides: never used for calibration. */
    slides: z.array(SlideRecordSchema).min(1),
    /** |int8 - float32| tumour probability over the inferred patches of all validation slides. */
    heatmapAbsDiff: z.object({ p50: z.number().min(0), p95: z.number().min(0), max: z.number().min(0) }).strict(),
    /** Share of inferred patches whose decision at 0.5 differs. */
    decisionFlipShare: z.number().min(0).max(1),
    /** Refined-mask Dice against the float32 set, pooled over the validation slides, and the lowest slide's. */
    maskDice: z.number().min(0).max(1),
    minSlideMaskDice: z.number().min(0).max(1),
    /** Installed with --force although maskDice was below the threshold. */
    forced: z.boolean(),
  })
  .strict();

const QuantizationSchema = z
  .object({
    /** The float32 set this one was made from: its name then, and its files' digests (what identifies it). */
    quantizedFrom: z
      .object({ set: z.string().min(1), patchSha256: Sha256Schema, refinementSha256: Sha256Schema })
      .strict(),
    /** What was done, in words, and with which tool versions. */
    method: z.string().min(1),
    tool: z.string().min(1),
    calibration: z.object({ patches: z.number().int().positive(), slides: z.array(SlideRecordSchema).min(1) }).strict(),
    /** Absent only while the set is being checked, before install. */
    agreement: AgreementSchema.optional(),
  })
  .strict();

export type QuantizationRecord = z.infer<typeof QuantizationSchema>;
export type AgreementRecord = z.infer<typeof AgreementSchema>;

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
    precision: z.enum(PRECISIONS).default('float32'),
    quantization: QuantizationSchema.optional(),
    training: TrainingSchema.optional(),
  })
  .strict()
  .refine((m) => (m.precision === 'int8') === (m.quantization !== undefined), {
    message: 'an int8 set records its quantization, and only an int8 set does',
    path: ['quantization'],
  });

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
