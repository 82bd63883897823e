/**
 * `h2g models import`: installs model files a user obtained another way (FastPathology's model hub,
 * a colleague, a USB stick). Which file is which is decided by the input/output contract, not by
 * file names, because other distributions name them differently (FAST: pw_tumour_mobilenetv2_model.onnx,
 * unet_tumour_refinement_model_fix-opset9.onnx).
 */
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { checkPatchModel, checkRefinementModel } from './contract';
import { sha256File } from './digest';
import { ModelError } from './errors';
import { type Manifest, type ModelParameters, ParametersSchema, PUBLISHED_FILES, readManifest } from './manifest';
import { PUBLISHED_SIZES } from './pull';
import { checkSetName, cleanupStale, createStaging, type ModelRole } from './store';
import { finishInstall, type InstallResult } from './store-install';

export interface ImportOptions {
  home: string;
  name: string;
  now?: () => Date;
  /** Recorded as the manifest's `source` (default `import:<folders>`). */
  source?: string;
  /** Recorded as the manifest's description when the input has no manifest of its own. */
  description?: string | undefined;
}

export interface ImportResult extends InstallResult {
  /** Things worth knowing that did not stop the import. */
  warnings: string[];
}

const fmt = (n: number): string => n.toLocaleString('en-US');

interface Candidate {
  path: string;
  /** Digest and size recorded by a source manifest, checked after copying. */
  recorded?: Manifest['files']['patch'];
}

/** Which contract a file meets; the reasons it meets neither otherwise. */
async function classify(file: string, params: ModelParameters): Promise<ModelRole> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new ModelError('MODEL_INVALID', `onnxruntime cannot load ${file}: ${reason}`, { cause: err });
  }
  try {
    const reasons: string[] = [];
    for (const [role, check] of [
      ['patch', () => checkPatchModel(file, session.inputMetadata, session.outputMetadata, params.patchSize)],
      [
        'refinement',
        () => checkRefinementModel(file, session.inputMetadata, session.outputMetadata, params.refinementSize),
      ],
    ] as const) {
      try {
        check();
        return role;
      } catch (err) {
        reasons.push((err as Error).message);
      }
    }
    throw new ModelError('MODEL_CONTRACT', `${file} is neither H2G-Net model: ${reasons.join('; ')}`);
  } finally {
    await session.release();
  }
}

/** A directory's files (its manifest's, if it has one, else every .onnx in it) or the files given. */
async function collect(inputs: string[]): Promise<{ candidates: Candidate[]; manifest: Manifest | null }> {
  const candidates: Candidate[] = [];
  let manifest: Manifest | null = null;
  for (const input of inputs) {
    const full = path.resolve(input);
    const st = await stat(full).catch(() => null);
    if (!st) throw new ModelError('MODEL_NOT_FOUND', `no such file or directory: ${full}`);
    if (st.isFile()) {
      candidates.push({ path: full });
      continue;
    }
    const read = await readManifest(full);
    if (read.fromFile) {
      manifest = read.manifest;
      for (const entry of [read.manifest.files.patch, read.manifest.files.refinement]) {
        candidates.push({ path: path.join(full, entry.file), recorded: entry });
      }
      continue;
    }
    const onnx = (await readdir(full)).filter((f) => f.toLowerCase().endsWith('.onnx')).sort();
    if (onnx.length === 0) throw new ModelError('MODEL_NOT_FOUND', `${full} holds no .onnx files`);
    candidates.push(...onnx.map((f) => ({ path: path.join(full, f) })));
  }
  return { candidates, manifest };
}

async function checkRecorded(c: Candidate, copied: string): Promise<void> {
  if (!c.recorded) return;
  const size = (await stat(copied)).size;
  const sha = c.recorded.sha256 !== undefined ? await sha256File(copied) : undefined;
  if ((c.recorded.size !== undefined && size !== c.recorded.size) || (sha && sha !== c.recorded.sha256)) {
    throw new ModelError('MODEL_DIGEST', `${c.path} differs from the size or SHA-256 its manifest records`);
  }
}

export async function importModels(inputs: string[], options: ImportOptions): Promise<ImportResult> {
  checkSetName(options.name);
  if (inputs.length === 0) throw new ModelError('MODEL_NOT_FOUND', 'give a directory or the two model files');
  const { candidates, manifest } = await collect(inputs);
  const params = manifest?.parameters ?? ParametersSchema.parse({});
  const byRole: Partial<Record<ModelRole, Candidate[]>> = {};
  for (const c of candidates) (byRole[await classify(c.path, params)] ??= []).push(c);
  for (const role of ['patch', 'refinement'] as const) {
    const found = byRole[role] ?? [];
    if (found.length !== 1) {
      const what = role === 'patch' ? 'patch classifier' : 'refinement network';
      throw new ModelError(
        found.length ? 'MODEL_CONTRACT' : 'MODEL_NOT_FOUND',
        `expected exactly one H2G-Net ${what}, found ${found.length}` +
          (found.length ? `: ${found.map((c) => c.path).join(', ')}` : ` among ${candidates.length} file(s)`),
      );
    }
  }
  const patch = byRole.patch![0]!;
  const refinement = byRole.refinement![0]!;
  const warnings: string[] = [];
  const refSize = (await stat(refinement.path)).size;
  // A browser download of the published file that stopped early keeps its name: say so, but do not
  // refuse, since a retrained network saved under the same name is legitimate.
  if (path.basename(refinement.path) === PUBLISHED_FILES.refinement && refSize !== PUBLISHED_SIZES.refinement) {
    warnings.push(
      `${refinement.path} has ${fmt(refSize)} bytes, the published file ${fmt(PUBLISHED_SIZES.refinement!)}: ` +
        'not the published weights, or an incomplete download',
    );
  }

  await cleanupStale(options.home);
  const staging = await createStaging(options.home);
  try {
    for (const [role, c] of [
      ['patch', patch],
      ['refinement', refinement],
    ] as const) {
      const copied = path.join(staging, PUBLISHED_FILES[role]);
      await copyFile(c.path, copied);
      await checkRecorded(c, copied);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  const sources = [...new Set([patch.path, refinement.path].map((p) => path.dirname(p)))];
  // A trained set keeps saying where it came from (trained:<dataset>) and how it was made.
  const trained = manifest?.training && manifest.source?.startsWith('trained:') ? manifest : null;
  const result = await finishInstall(options.home, staging, {
    name: options.name,
    source: trained?.source ?? options.source ?? `import:${sources.join(',')}`,
    ...(trained?.training ? { training: trained.training } : {}),
    demo: manifest?.demo ?? false,
    ...(manifest?.description
      ? { description: manifest.description }
      : options.description
        ? { description: options.description }
        : {}),
    parameters: params,
    // An int8 set copied from elsewhere keeps its record (its files were checked against it above).
    ...(manifest?.quantization ? { precision: manifest.precision, quantization: manifest.quantization } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return { ...result, warnings };
}
