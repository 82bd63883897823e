/**
 * Loads a model set (a directory with the two H2G-Net ONNX files and an optional manifest) into
 * onnxruntime sessions, after checking sizes, digests and the input/output contract.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { checkPatchModel, checkRefinementModel, type PatchModelBinding, type RefinementModelBinding } from './contract';
import { sha256File } from './digest';
import { type ExecutionProvider, type InferenceEngine, InferenceThread } from './engine';
import { ModelError } from './errors';
import { type Manifest, type ModelParameters, type Precision, readManifest } from './manifest';
import { defaultInferenceThreads, machineCpus } from './threads';

export type { ExecutionProvider } from './engine';
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];

export interface SessionOptions {
  provider: ExecutionProvider;
  /**
   * Threads for one inference call (onnxruntime intra-op); 0 = chosen for this machine: on CPU with
   * 8 or more CPUs, two are left to tile decoding (see threads.ts), else onnxruntime's default.
   */
  threads: number;
}

export interface ModelFileInfo {
  role: 'patch' | 'refinement';
  file: string;
  path: string;
  sha256: string;
  size: number;
}

export interface LoadedModel<B> {
  /** The session behind the inference seam (engine.ts): runs off the main thread, outputs checked. */
  engine: InferenceEngine;
  binding: B;
  info: ModelFileInfo;
}

export interface ModelSet {
  name: string;
  directory: string;
  demo: boolean;
  source: string | null;
  parameters: ModelParameters;
  /** The patch model's arithmetic; int8 sets come from `h2g models quantize`. */
  precision: Precision;
  /** For an int8 set: the SHA-256 of the float32 patch model it was quantized from. */
  quantizedFrom: string | null;
  /** Where the sessions run. */
  provider: ExecutionProvider;
  /** Intra-op threads of each inference call, as resolved at load; 0 = onnxruntime's own default. */
  threads: number;
  patch: LoadedModel<PatchModelBinding>;
  refinement: LoadedModel<RefinementModelBinding>;
  release(): Promise<void>;
}

async function checkedFile(
  dir: string,
  role: 'patch' | 'refinement',
  entry: Manifest['files']['patch'],
): Promise<ModelFileInfo> {
  const file = path.join(dir, entry.file);
  const st = await stat(file).catch(() => null);
  if (!st || !st.isFile()) throw new ModelError('MODEL_NOT_FOUND', `the ${role} model file is missing: ${file}`);
  if (entry.size !== undefined && st.size !== entry.size) {
    throw new ModelError(
      'MODEL_DIGEST',
      `${file} has ${st.size} bytes but its manifest says ${entry.size} (truncated or replaced); reinstall the model set`,
    );
  }
  const sha256 = await sha256File(file);
  if (entry.sha256 !== undefined && sha256 !== entry.sha256) {
    throw new ModelError(
      'MODEL_DIGEST',
      `${file} has SHA-256 ${sha256} but its manifest says ${entry.sha256} (corrupted or replaced); reinstall the model set`,
    );
  }
  return { role, file: entry.file, path: file, sha256, size: st.size };
}

/** What a GPU provider needs, said when it cannot start (onnxruntime's own message names neither). */
const PROVIDER_NEEDS: Record<Exclude<ExecutionProvider, 'cpu'>, string> = {
  webgpu:
    "webgpu needs a GPU with Vulkan: the Vulkan loader (libvulkan1) and the driver's Vulkan support, for NVIDIA with libglvnd; see the README",
  cuda: 'cuda needs the CUDA libraries onnxruntime-node downloads at install: reinstall without ONNXRUNTIME_NODE_INSTALL=skip',
};

/** `options.threads`, or for 0 the count chosen for this machine (0 again = onnxruntime's default). */
function resolveThreads(options: SessionOptions): number {
  if (options.threads > 0) return options.threads;
  return options.provider === 'cpu' ? defaultInferenceThreads(machineCpus()) : 0;
}

async function createSession(
  thread: InferenceThread,
  info: ModelFileInfo,
  options: SessionOptions,
): Promise<InferenceEngine> {
  try {
    return await thread.load({ file: info.path, provider: options.provider, threads: options.threads });
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    if (/provider|backend|adapter/i.test(reason ?? '') && options.provider !== 'cpu') {
      throw new ModelError(
        'MODEL_INVALID',
        `execution provider '${options.provider}' is not available here: ${reason} (${PROVIDER_NEEDS[options.provider]})`,
        { cause: err },
      );
    }
    throw new ModelError('MODEL_INVALID', `onnxruntime cannot load ${info.path}: ${reason}`, { cause: err });
  }
}

/**
 * A model set's directory (absolute) and manifest, without loading anything: what a caller needs to
 * plan the slide while the sessions load (segmentWhileLoading).
 */
export async function readModelSetManifest(directory: string): Promise<{ dir: string; manifest: Manifest }> {
  const dir = path.resolve(directory);
  const st = await stat(dir).catch(() => null);
  if (!st || !st.isDirectory()) throw new ModelError('MODEL_NOT_FOUND', `model directory not found: ${dir}`);
  return { dir, manifest: (await readManifest(dir)).manifest };
}

/** The two model files' paths, as the manifest names them. */
export function modelFilePaths(dir: string, manifest: Manifest): string[] {
  return [path.join(dir, manifest.files.patch.file), path.join(dir, manifest.files.refinement.file)];
}

/**
 * One untimed call of each session on zeros, at the batch size the jobs will use. A GPU provider
 * compiles its kernels and uploads its weights on a session's first run; on the CPU a first call,
 * measured on the 2-vCPU VM (full-size models, batch 16), cost no more than the next ones
 * (1.68 s vs 1.95 / 1.54 s; refinement 1.92 s vs 2.61 / 2.65 s), so there a warm-up would only take
 * the cores from the tissue mask it is meant to hide behind: skipped. Resolves to whether it ran.
 */
export async function warmUpModelSet(set: ModelSet, batchSize: number): Promise<boolean> {
  if (set.provider === 'cpu') return false;
  const { patchSize: p, refinementSize: r } = set.parameters;
  const { patch, refinement } = set;
  await patch.engine.run(
    { [patch.binding.input]: { data: new Float32Array(batchSize * p * p * 3), dims: [batchSize, p, p, 3] } },
    { output: patch.binding.output, dims: [batchSize, 2] },
  );
  await refinement.engine.run(
    {
      [refinement.binding.image]: { data: new Float32Array(r * r * 3), dims: [1, r, r, 3] },
      [refinement.binding.heatmap]: { data: new Float32Array(r * r), dims: [1, r, r, 1] },
    },
    { output: refinement.binding.output, dims: [1, r, r, 2] },
  );
  return true;
}

/**
 * loadModelSet, then warmUpModelSet at `batchSize` (which releases the set again if the warm-up
 * fails): a set ready for its first job. Resolves with whether the warm-up ran.
 */
export async function loadWarmModelSet(
  directory: string,
  options: SessionOptions,
  batchSize: number,
): Promise<{ set: ModelSet; warmedUp: boolean }> {
  const set = await loadModelSet(directory, options);
  try {
    return { set, warmedUp: await warmUpModelSet(set, batchSize) };
  } catch (err) {
    await set.release();
    throw err;
  }
}

/** Loads and checks one model set; rejects with a ModelError that says what is wrong. */
export async function loadModelSet(directory: string, requested: SessionOptions): Promise<ModelSet> {
  const options = { ...requested, threads: resolveThreads(requested) };
  const { dir, manifest } = await readModelSetManifest(directory);
  const params = manifest.parameters;
  const patchInfo = await checkedFile(dir, 'patch', manifest.files.patch);
  const refinementInfo = await checkedFile(dir, 'refinement', manifest.files.refinement);

  // One inference thread per session: a batch refines one slide while the next one's patches infer,
  // and both sessions load at once.
  const threads = [new InferenceThread(), new InferenceThread()] as const;
  const closeThreads = () => Promise.all(threads.map((t) => t.close()));
  try {
    const [patchLoad, refinementLoad] = await Promise.allSettled([
      createSession(threads[0], patchInfo, options),
      createSession(threads[1], refinementInfo, options),
    ]);
    // The errors in the order a user fixes them: the patch model first.
    if (patchLoad.status === 'rejected') throw patchLoad.reason;
    const patchSession = patchLoad.value;
    const patchBinding = checkPatchModel(
      patchInfo.path,
      patchSession.inputMetadata,
      patchSession.outputMetadata,
      params.patchSize,
    );
    if (refinementLoad.status === 'rejected') throw refinementLoad.reason;
    const refinementSession = refinementLoad.value;
    const refinementBinding = checkRefinementModel(
      refinementInfo.path,
      refinementSession.inputMetadata,
      refinementSession.outputMetadata,
      params.refinementSize,
    );
    const sessions = [patchSession, refinementSession];
    return {
      name: manifest.name ?? path.basename(dir),
      directory: dir,
      demo: manifest.demo,
      source: manifest.source ?? null,
      parameters: params,
      precision: manifest.precision,
      quantizedFrom: manifest.quantization?.quantizedFrom.patchSha256 ?? null,
      provider: options.provider,
      threads: options.threads,
      patch: { engine: patchSession, binding: patchBinding, info: patchInfo },
      refinement: { engine: refinementSession, binding: refinementBinding, info: refinementInfo },
      release: async () => {
        await Promise.allSettled(sessions.map((s) => s.release()));
        await closeThreads();
      },
    };
  } catch (err) {
    await closeThreads();
    throw err;
  }
}
