/**
 * `--precision int8|float32`: from the model set chosen as usual (select.ts), go to its sibling with
 * the wanted arithmetic. An int8 set names the float32 set it was quantized from by its files'
 * SHA-256 (manifest `quantization.quantizedFrom`), so siblings are found by digest among the
 * installed sets, whatever they are called now: a re-pulled or retrained float32 set no longer
 * matches an int8 set made from its predecessor. Among several matches the conventional name wins
 * (`<set>-int8`, what `h2g models quantize` installs by default, or the recorded float32 name).
 */
import path from 'node:path';
import { sha256File } from './digest';
import { ModelError } from './errors';
import { type Manifest, type Precision, readManifest } from './manifest';
import { type InstalledSet, listInstalledSets, modelsHome } from './store';

export const INT8_SUFFIX = '-int8';

interface Digests {
  patch: string;
  refinement: string;
}

/** The files' digests as recorded, or computed for a hand-made directory without them. */
async function digests(dir: string, manifest: Manifest): Promise<Digests> {
  const { patch, refinement } = manifest.files;
  return {
    patch: patch.sha256 ?? (await sha256File(path.join(dir, patch.file))),
    refinement: refinement.sha256 ?? (await sha256File(path.join(dir, refinement.file))),
  };
}

function pick(candidates: InstalledSet[], preferred: string, what: string): InstalledSet {
  const named = candidates.find((s) => s.name === preferred);
  if (named) return named;
  if (candidates.length === 1) return candidates[0]!;
  throw new ModelError(
    'MODEL_NOT_FOUND',
    `several installed sets are ${what} (${candidates.map((s) => s.name).join(', ')}): name one with --models`,
  );
}

/** The directory of the set with `precision` that belongs with the set in `directory` (itself if it has it). */
export async function withPrecision(
  directory: string,
  precision: Precision | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (!precision) return directory;
  const { manifest } = await readManifest(directory);
  if (manifest.precision === precision) return directory;
  const name = manifest.name ?? path.basename(directory);
  const home = modelsHome(env);
  const installed = (await listInstalledSets(home)).filter((s) => s.manifest?.precision === precision);
  const own = await digests(directory, manifest);
  if (precision === 'int8') {
    const made = installed.filter((s) => {
      const from = s.manifest!.quantization!.quantizedFrom;
      return from.patchSha256 === own.patch && from.refinementSha256 === own.refinement;
    });
    if (made.length === 0) {
      throw new ModelError(
        'MODEL_NOT_FOUND',
        `no int8 model set made from '${name}' is installed in ${home}; make one with ` +
          `h2g models quantize ${name} --calibrate <slides...> (a few of your own slides)`,
      );
    }
    return pick(made, `${name}${INT8_SUFFIX}`, `int8 versions of '${name}'`).directory;
  }
  const from = manifest.quantization!.quantizedFrom;
  const sources = installed.filter(
    (s) =>
      s.manifest!.files.patch.sha256 === from.patchSha256 &&
      s.manifest!.files.refinement.sha256 === from.refinementSha256,
  );
  if (sources.length === 0) {
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `the float32 set '${name}' was quantized from (recorded as '${from.set}', patch model sha256 ` +
        `${from.patchSha256.slice(0, 12)}...) is not installed in ${home}`,
    );
  }
  return pick(sources, from.set, `the float32 set of '${name}'`).directory;
}
