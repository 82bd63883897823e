/**
 * `h2g models quantize <set> --calibrate <slides...>`: a static int8 version of a float32 set's patch
 * model, installed as a new set beside it.
 *
 *   1. sample calibration patches from the calibration slides through our pipeline (calibration.ts),
 *   2. quantize with onnxruntime's tooling in Python (python.ts) into a staging directory, next to
 *      the unchanged float32 refinement network (the U-Net stays float32: it runs once per slide),
 *   3. segment each validation slide with both sets and compare (agreement.ts); print the table,
 *   4. install atomically (store-install.ts) only if the refined masks agree (Dice >= 0.99) or
 *      --force; otherwise the staging directory is removed and nothing is installed.
 * The manifest records the float32 set's digests, the calibration and validation slides' digests,
 * the method and the agreement.
 */
import { copyFile, link, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256File } from '../models/digest';
import { ModelError } from '../models/errors';
import { type Manifest, type QuantizationRecord, readManifest } from '../models/manifest';
import { loadModelSet, type ModelSet } from '../models/model-set';
import { INT8_SUFFIX } from '../models/precision';
import { resolveModelDirectory } from '../models/select';
import { checkSetName, cleanupStale, createStaging } from '../models/store';
import { buildManifest, finishInstall, type InstallResult, writeManifestFile } from '../models/store-install';
import { writeNpy } from '../output/npy';
import { InvalidOptionError } from '../pipeline/errors';
import { segmentSlide } from '../pipeline/segment';
import { OpenSlide } from '../slide/openslide';
import {
  agreementRecord,
  type AgreementSummary,
  compareSlide,
  formatAgreement,
  MIN_MASK_DICE,
  summarise,
} from './agreement';
import { type CalibrationSet, sampleCalibrationPatches, type SlideInput } from './calibration';
import { runQuantizer } from './python';

export interface QuantizeOptions {
  home: string;
  /** The float32 set: an installed name or a directory, as `--models`. */
  source: string;
  /** Default `<source name>-int8`. */
  name?: string;
  calibrate: string[];
  /** Never used for calibration; must not repeat a calibration slide. */
  validate: string[];
  patches: number;
  force: boolean;
  mpp?: number;
  threads: number;
  batchSize: number;
  env: NodeJS.ProcessEnv;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
  /** The agreement table and speed line (stdout), before the install decision. */
  report: (text: string) => void;
  now?: () => Date;
}

export interface SpeedCheck {
  float32: number;
  int8: number;
  batch: number;
  threads: number;
}

export interface QuantizeOutcome {
  install: InstallResult;
  agreement: AgreementSummary;
  speed: SpeedCheck;
}

const TISSUE_THRESHOLD = 0.5;

async function identify(paths: string[], role: string): Promise<SlideInput[]> {
  return Promise.all(
    paths.map(async (p) => {
      const st = await stat(p).catch(() => null);
      if (!st?.isFile()) throw new InvalidOptionError(`${role} slide not found (or not a file): ${p}`);
      return { path: await realpath(p), sha256: await sha256File(p) };
    }),
  );
}

function checkDisjoint(calibrate: SlideInput[], validate: SlideInput[]): void {
  for (const v of validate) {
    const same = calibrate.find((c) => c.path === v.path || c.sha256 === v.sha256);
    if (same) {
      throw new InvalidOptionError(
        `${v.path} is also a calibration slide${same.path === v.path ? '' : ` (same file as ${same.path})`}: ` +
          'agreement must be measured on slides the calibration did not see',
      );
    }
  }
}

/** The float32 set to quantize, refusing what cannot be: an int8 set, or a name that would replace it. */
async function sourceSet(
  options: QuantizeOptions,
): Promise<{ dir: string; manifest: Manifest; name: string; target: string }> {
  // Looked up in the home it installs into (--dest), like the other models commands.
  const env = { ...options.env, H2G_MODELS_HOME: options.home };
  const dir = await resolveModelDirectory({ explicit: options.source, env });
  const { manifest } = await readManifest(dir);
  const name = manifest.name ?? path.basename(dir);
  if (manifest.precision === 'int8') {
    throw new InvalidOptionError(
      `'${name}' is already an int8 set; quantize its float32 set '${manifest.quantization!.quantizedFrom.set}'`,
    );
  }
  const target = checkSetName(options.name ?? `${name}${INT8_SUFFIX}`);
  if (target === name)
    throw new InvalidOptionError(`--name ${target} would replace the float32 set itself; choose another name`);
  return { dir, manifest, name, target };
}

/** A hard link when the file system allows (no second 46 MB copy), else a copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await link(from, to).catch(() => copyFile(from, to));
}

async function staged(dir: string, file: string): Promise<{ file: string; sha256: string; size: number }> {
  const full = path.join(dir, file);
  return { file, sha256: await sha256File(full), size: (await stat(full)).size };
}

/** Both sets on each validation slide, as `h2g segment` would run them. */
async function measureAgreement(
  reference: ModelSet,
  candidate: ModelSet,
  slides: SlideInput[],
  options: QuantizeOptions,
): Promise<AgreementSummary> {
  const per = [];
  for (const [k, slide] of slides.entries()) {
    const source = await OpenSlide.open(slide.path);
    try {
      const cells: number[] = [];
      const run = (set: ModelSet, onPatches?: (c: number[]) => void) =>
        segmentSlide(
          source,
          set,
          { mpp: options.mpp, tissueThreshold: TISSUE_THRESHOLD, batchSize: options.batchSize },
          { onPatches: onPatches ? (e) => onPatches(e.cells) : undefined },
        );
      const ref = await run(reference, (c) => cells.push(...c));
      const cand = await run(candidate);
      options.progress(
        `agreement: slide ${k + 1}/${slides.length} ${path.basename(slide.path)}: ${cells.length} patches`,
      );
      per.push(
        compareSlide(
          { file: path.basename(slide.path), sha256: slide.sha256 },
          cells,
          { heatmap: ref.heatmap.values, mask: ref.mask },
          { heatmap: cand.heatmap.values, mask: cand.mask },
        ),
      );
    } finally {
      await source.close();
    }
  }
  return summarise(per);
}

/** Patches per second of both patch models on one batch of calibration patches, alternating runs. */
async function speedCheck(
  reference: ModelSet,
  candidate: ModelSet,
  calibration: CalibrationSet,
  batch: number,
): Promise<SpeedCheck> {
  const n = Math.min(batch, calibration.count);
  const stride = calibration.data.length / calibration.count;
  const x = Float32Array.from(calibration.data.subarray(0, n * stride), (v) => v / 255);
  const p = reference.parameters.patchSize;
  const best = [Infinity, Infinity];
  const sets = [reference, candidate];
  for (let round = 0; round < 4; round++) {
    for (const [i, set] of sets.entries()) {
      // A copy per call: the engine moves the feed's buffer to the inference thread.
      const data = x.slice();
      const t0 = performance.now();
      await set.patch.engine.run(
        { [set.patch.binding.input]: { data, dims: [n, p, p, 3] } },
        { output: set.patch.binding.output, dims: [n, 2] },
      );
      // The first round warms both sessions up (allocations, kernel choice) and is not counted.
      if (round > 0) best[i] = Math.min(best[i]!, performance.now() - t0);
    }
  }
  return { float32: (1000 * n) / best[0]!, int8: (1000 * n) / best[1]!, batch: n, threads: reference.threads };
}

export async function quantizeModelSet(options: QuantizeOptions): Promise<QuantizeOutcome> {
  const src = await sourceSet(options);
  const slides = options.calibrate.length + options.validate.length;
  options.progress(`identifying ${slides} slide(s) by SHA-256 ...`);
  const calibrate = await identify(options.calibrate, 'calibration');
  const validate = await identify(options.validate, 'validation');
  checkDisjoint(calibrate, validate);
  const session = { provider: 'cpu' as const, threads: options.threads };
  const reference = await loadModelSet(src.dir, session);
  let candidate: ModelSet | null = null;
  let scratch: string | null = null;
  let staging: string | null = null;
  try {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'h2g-quantize-'));
    await cleanupStale(options.home);
    staging = await createStaging(options.home);
    const calibration = await sampleCalibrationPatches(calibrate, options.patches, src.manifest.parameters, {
      mpp: options.mpp,
      tissueThreshold: TISSUE_THRESHOLD,
      onSlide: (k, file, taken, available) =>
        options.progress(
          `calibration: slide ${k + 1}/${calibrate.length} ${file}: ${taken} of ${available} tissue patches`,
        ),
    });
    if (calibration.count === 0) {
      throw new InvalidOptionError('the calibration slides have no tissue patches (at tissue threshold 0.5)');
    }
    const p = src.manifest.parameters.patchSize;
    const npy = path.join(scratch, 'calibration.npy');
    await writeNpy(npy, calibration.data, [calibration.count, p, p, 3]);
    const patchFile = src.manifest.files.patch.file.replace(/\.onnx$/i, '') + '.int8.onnx';
    options.progress(
      `quantizing ${reference.patch.info.file} on ${calibration.count} patches (onnxruntime, Python) ...`,
    );
    const tool = await runQuantizer(
      { model: reference.patch.info.path, patches: npy, out: path.join(staging, patchFile) },
      options.env,
    );
    const refinementFile = src.manifest.files.refinement.file;
    await linkOrCopy(reference.refinement.info.path, path.join(staging, refinementFile));

    const quantization: QuantizationRecord = {
      quantizedFrom: {
        set: src.name,
        patchSha256: reference.patch.info.sha256,
        refinementSha256: reference.refinement.info.sha256,
      },
      method: tool.method,
      tool: `onnxruntime ${tool.onnxruntime} (Python quantization tools), onnx ${tool.onnx}`,
      calibration: {
        patches: calibration.count,
        slides: calibration.perSlide.map(({ file, sha256, patches }) => ({ file, sha256, patches })),
      },
    };
    const install = {
      name: src.target,
      source: `quantized:${src.name}`,
      demo: src.manifest.demo,
      description:
        `int8 patch model (static QDQ) of '${src.name}', calibrated on ${calibration.count} tissue patches ` +
        `of ${calibrate.length} slide(s); refinement network unchanged (float32)`,
      parameters: src.manifest.parameters,
      files: { patch: patchFile, refinement: refinementFile },
      precision: 'int8' as const,
      ...(options.now ? { now: options.now } : {}),
    };
    const files = { patch: await staged(staging, patchFile), refinement: await staged(staging, refinementFile) };
    await writeManifestFile(staging, buildManifest({ ...install, quantization }, files));
    candidate = await loadModelSet(staging, session);

    const agreement = await measureAgreement(reference, candidate, validate, options);
    const speed = await speedCheck(reference, candidate, calibration, options.batchSize);
    await candidate.release();
    candidate = null;
    options.report(
      formatAgreement(agreement, src.name) +
        `patch model speed here (batch ${speed.batch}, ${speed.threads || 'default'} threads): float32 ` +
        `${speed.float32.toFixed(1)} patches/s, int8 ${speed.int8.toFixed(1)} patches/s (${(speed.int8 / speed.float32).toFixed(2)}x)\n`,
    );
    if (!agreement.passed && !options.force) {
      throw new ModelError(
        'MODEL_AGREEMENT',
        `not installed: the int8 set's refined masks agree with '${src.name}' at Dice ${agreement.maskDice.toFixed(4)}, ` +
          `below ${MIN_MASK_DICE} (calibrate on more or more typical slides; --force installs it anyway)`,
      );
    }
    const result = await finishInstall(options.home, staging, {
      ...install,
      quantization: { ...quantization, agreement: agreementRecord(agreement, !agreement.passed) },
    });
    return { install: result, agreement, speed };
  } finally {
    await candidate?.release();
    await reference.release();
    for (const dir of [staging, scratch]) if (dir) await rm(dir, { recursive: true, force: true });
  }
}
