/**
 * `h2g models verify`: re-checks installed sets exactly as a segmentation would load them (size,
 * SHA-256, onnxruntime load, input/output contract), and additionally insists that the manifest
 * records both digests: an installed set without them could not prove it is unchanged.
 */
import { ModelError } from './errors';
import { loadModelSet, type ModelFileInfo } from './model-set';
import { type InstalledSet, ROLES } from './store';

export interface VerifyResult {
  name: string;
  directory: string;
  ok: boolean;
  problem: string | null;
  files: ModelFileInfo[];
}

export async function verifyInstalledSet(set: InstalledSet): Promise<VerifyResult> {
  const result = { name: set.name, directory: set.directory };
  if (!set.manifest) return { ...result, ok: false, problem: set.problem ?? 'no manifest', files: [] };
  for (const role of ROLES) {
    const entry = set.manifest.files[role];
    if (entry.sha256 === undefined || entry.size === undefined) {
      const problem = `the manifest records no size or SHA-256 for ${entry.file}; reinstall the set`;
      return { ...result, ok: false, problem, files: [] };
    }
  }
  try {
    const loaded = await loadModelSet(set.directory, { provider: 'cpu', threads: 1 });
    await loaded.release();
    return { ...result, ok: true, problem: null, files: [loaded.patch.info, loaded.refinement.info] };
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    return { ...result, ok: false, problem: err.message, files: [] };
  }
}
