/**
 * The last step of every install (pull, import, demo): check the staged files, record their SHA-256
 * in a manifest, prove the set loads, then move it into place. Nothing reaches the set's final
 * directory unless all of that passed, and a failed install removes its staging directory.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from './digest';
import { ModelError } from './errors';
import {
  MANIFEST_FILE,
  type Manifest,
  ManifestSchema,
  type ModelParameters,
  type Precision,
  PUBLISHED_FILES,
  type QuantizationRecord,
  type TrainingRecord,
} from './manifest';
import { loadModelSet } from './model-set';
import { checkSetName, commitStaging, type ModelRole, ROLES } from './store';

export interface InstallOptions {
  name: string;
  /** Where the files came from: a URL, "import:<path>", "generated". */
  source: string;
  demo: boolean;
  description?: string;
  parameters?: ModelParameters;
  /** File names in the staging directory, when not the published ones. */
  files?: Partial<Record<ModelRole, string>>;
  /** Default float32; an int8 set carries its quantization record. */
  precision?: Precision;
  quantization?: QuantizationRecord;
  /** How a trained set was made (its manifest's `training`), kept as it is. */
  training?: TrainingRecord;
  /** Sizes the files must have (the published release's known sizes); roles left out are not checked. */
  expectedSizes?: Partial<Record<ModelRole, number>>;
  /** Clock for installedAt, so tests can pin it. */
  now?: () => Date;
}

export interface InstalledFile {
  file: string;
  sha256: string;
  size: number;
}

export interface InstallResult {
  name: string;
  directory: string;
  manifest: Manifest;
  files: Record<ModelRole, InstalledFile>;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

async function checkStagedFile(
  staging: string,
  role: ModelRole,
  file: string,
  expectedSize: number | undefined,
): Promise<InstalledFile> {
  const st = await stat(path.join(staging, file)).catch(() => null);
  if (!st?.isFile()) throw new ModelError('MODEL_NOT_FOUND', `the ${role} model file ${file} is missing`);
  if (expectedSize !== undefined && st.size !== expectedSize) {
    throw new ModelError(
      'MODEL_DIGEST',
      `${file} has ${fmt(st.size)} bytes but the published file has ${fmt(expectedSize)} bytes ` +
        `(an incomplete download or a different file)`,
    );
  }
  return { file, sha256: await sha256File(path.join(staging, file)), size: st.size };
}

export function buildManifest(options: InstallOptions, files: Record<ModelRole, InstalledFile>): Manifest {
  return ManifestSchema.parse({
    schemaVersion: 1,
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
    demo: options.demo,
    source: options.source,
    installedAt: (options.now?.() ?? new Date()).toISOString(),
    files: { patch: { ...files.patch }, refinement: { ...files.refinement } },
    ...(options.parameters ? { parameters: options.parameters } : {}),
    ...(options.precision ? { precision: options.precision } : {}),
    ...(options.quantization ? { quantization: options.quantization } : {}),
    ...(options.training ? { training: options.training } : {}),
  });
}

export async function writeManifestFile(dir: string, manifest: Manifest): Promise<void> {
  await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Checks the two files in `staging` (named as the published files unless `options.files` says), writes the manifest, loads the
 * set with onnxruntime (digests + input/output contract) and commits it as `options.name`.
 * The staging directory is gone afterwards, whether this succeeds or throws.
 */
export async function finishInstall(home: string, staging: string, options: InstallOptions): Promise<InstallResult> {
  try {
    checkSetName(options.name);
    const files = {} as Record<ModelRole, InstalledFile>;
    for (const role of ROLES) {
      const file = options.files?.[role] ?? PUBLISHED_FILES[role];
      files[role] = await checkStagedFile(staging, role, file, options.expectedSizes?.[role]);
    }
    const manifest = buildManifest(options, files);
    await writeManifestFile(staging, manifest);
    // The same loader segmentation uses: if it accepts the staged set, the installed one will load.
    const set = await loadModelSet(staging, { provider: 'cpu', threads: 1 });
    await set.release();
    const directory = await commitStaging(home, staging, options.name);
    return { name: options.name, directory, manifest, files };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
