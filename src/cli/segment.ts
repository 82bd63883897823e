/**
 * `h2g segment <slide> --out <file.geojson>`: the whole pipeline on one slide, with optional heatmap,
 * mask and overlay files and a summary at the end.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { checkOutputPaths, writeFileAtomic } from '../output/atomic';
import { Command, Option } from 'commander';
import { createLogger, type Logger } from '../log';
import { type Precision, PRECISIONS } from '../models/manifest';
import { EXECUTION_PROVIDERS, type ExecutionProvider, loadModelSet } from '../models/model-set';
import { withPrecision } from '../models/precision';
import { resolveModelDirectory } from '../models/select';
import { parseRoi, REFERENCE_NAMES } from '../pipeline/options';
import { segmentSlide } from '../pipeline/segment';
import type { ReferenceName, SegmentationResult } from '../pipeline/types';
import { writeNpy } from '../output/npy';
import { renderOverlay } from '../output/overlay';
import { encodeMaskPng, encodeRgbPng } from '../output/png';
import { DEMO_WARNING } from '../pipeline/geojson';
import { OpenSlide } from '../slide/openslide';
import { DEFAULT_LIMITS, type Limits } from '../pipeline/limits';
import { UsageError } from './errors';
import { addLimitOptions, checkThreads, limitsFromFlags } from './limit-options';
import { createProgressReporter } from './progress';

export interface SegmentRun {
  slide: string;
  /** Model directory or installed set name; undefined = the default selection. */
  models?: string;
  /** The chosen set's sibling with this arithmetic; undefined = the set as it is. */
  precision?: Precision;
  out: string;
  saveHeatmap?: string;
  saveMask?: string;
  overlay?: string;
  mpp?: number;
  forceMpp?: boolean;
  tissueThreshold?: number;
  threads: number;
  batchSize?: number;
  provider: ExecutionProvider;
  smoothingUm?: number;
  roi?: string;
  /** Resource limits; default DEFAULT_LIMITS. */
  limits?: Limits;
  reference?: ReferenceName;
  log?: Logger;
  /** Print the human summary to this stream (default stderr). */
  summaryStream?: NodeJS.WritableStream;
}

export function number(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new UsageError(
        `--${name} must be ${integer ? 'a whole number' : 'a number'} between ${min} and ${max}, got '${value}'`,
      );
    }
    return n;
  };
}

export function formatSummary(result: SegmentationResult, demo: boolean): string {
  const s = result.summary;
  const stages = Object.entries(s.stageSeconds)
    .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
    .join(', ');
  return [
    ...(demo ? [`WARNING: ${DEMO_WARNING}`] : []),
    `patches inferred: ${s.patchesInferred} of ${s.patchesTotal} (grid ${result.heatmap.rows} x ${result.heatmap.cols})`,
    `tumour regions:   ${s.polygonCount}`,
    `tumour area:      ${s.tumourAreaMm2.toFixed(3)} mm^2 (${(100 * s.tumourShareOfTissue).toFixed(1)}% of ${s.tissueAreaMm2.toFixed(3)} mm^2 tissue)`,
    `time:             ${s.totalSeconds.toFixed(2)} s (${stages})`,
  ].join('\n');
}

/**
 * The text of an --roi file: a regular file of at most `maxBytes`. Opened without blocking (a FIFO
 * would wait for a writer forever) and checked on the open descriptor before anything is read
 * (/dev/zero never ends).
 */
export async function readRoiFile(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`--roi ${file}: cannot open it (${err.code ?? err.message})`);
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UsageError(`--roi ${file} is not a regular file`);
    if (st.size > maxBytes) {
      throw new UsageError(
        `--roi ${file} has ${st.size} bytes, more than the limit maxRoiFileBytes = ${maxBytes} (raise it with --max-roi-file-bytes)`,
      );
    }
    const buffer = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buffer, 0, st.size, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Runs one segmentation and writes the requested files; used by `h2g segment` and `h2g demo`. */
export async function runSegment(run: SegmentRun): Promise<SegmentationResult> {
  const log = run.log ?? createLogger();
  const limits = run.limits ?? DEFAULT_LIMITS;
  const roi =
    run.roi !== undefined
      ? parseRoi(await readRoiFile(run.roi, limits.maxRoiFileBytes), limits.maxRoiVertices)
      : undefined;
  const outputs = {
    '--out': run.out,
    '--save-heatmap': run.saveHeatmap,
    '--save-mask': run.saveMask,
    '--overlay': run.overlay,
  };
  // Before any work: no output may be an input (the slide, the ROI) or another output.
  await checkOutputPaths([run.slide, ...(run.roi !== undefined ? [run.roi] : [])], outputs);
  const modelDir = await withPrecision(await resolveModelDirectory({ explicit: run.models }), run.precision);
  const slide = await OpenSlide.open(run.slide, { limits });
  const progress = createProgressReporter(log);
  try {
    const models = await loadModelSet(modelDir, { provider: run.provider, threads: run.threads });
    try {
      await checkOutputPaths([models.patch.info.path, models.refinement.info.path], outputs);
      log.info(
        {
          slide: run.slide,
          models: models.directory,
          demo: models.demo,
          precision: models.precision,
          provider: models.provider,
          threads: models.threads,
        },
        'segmenting',
      );
      const result = await segmentSlide(
        slide,
        models,
        {
          mpp: run.mpp,
          forceMpp: run.forceMpp,
          tissueThreshold: run.tissueThreshold,
          batchSize: run.batchSize,
          smoothingUm: run.smoothingUm,
          roi,
          reference: run.reference,
        },
        { onProgress: progress.onProgress },
        limits,
      );
      progress.stop();
      const json = result.geojsonText;
      if (run.out === '-') process.stdout.write(`${json}\n`);
      else await writeFileAtomic(run.out, json);
      if (run.saveHeatmap)
        await writeNpy(run.saveHeatmap, result.heatmap.values, [result.heatmap.rows, result.heatmap.cols]);
      if (run.saveMask) await writeFileAtomic(run.saveMask, encodeMaskPng(result.mask));
      if (run.overlay) {
        const picture = renderOverlay(result.lowResImage, result.heatmap, result.mask, slide.width, slide.height);
        await writeFileAtomic(run.overlay, encodeRgbPng(picture));
      }
      (run.summaryStream ?? process.stderr).write(`${formatSummary(result, models.demo)}\n`);
      return result;
    } finally {
      await models.release();
    }
  } finally {
    progress.stop();
    await slide.close();
  }
}

export function segmentCommand(): Command {
  const command = new Command('segment')
    .description('segment tumour regions in a slide and write them as GeoJSON (level-0 pixel coordinates)')
    .argument('<slide>', 'whole-slide image OpenSlide can read')
    .requiredOption('-o, --out <file>', "GeoJSON FeatureCollection to write ('-' = stdout)")
    .option(
      '-m, --models <dir-or-name>',
      'model directory or installed set (default: $H2G_MODELS, then the installed default)',
    )
    .addOption(
      new Option(
        '--precision <p>',
        "patch model arithmetic: the chosen set's int8 sibling (h2g models quantize) or float32 one (default: the set as it is)",
      ).choices(PRECISIONS),
    )
    .option('--save-heatmap <file.npy>', 'patch heatmap as float32 NumPy array [rows, cols]')
    .option('--save-mask <file.png>', 'refinement mask as 8-bit PNG (255 = tumour)')
    .option('--overlay <file.png>', 'low-resolution picture with the heatmap and mask drawn on it')
    .option(
      '--mpp <um/px>',
      "level-0 pixel size; overrides or supplies the slide's (0.05 to 50 unless --force-mpp)",
      number('mpp', 1e-6, 1e6),
    )
    .option('--force-mpp', "accept a pixel size (given or the slide's) outside 0.05 to 50 um/px")
    .option(
      '--tissue-threshold <share>',
      'tissue share of a patch needed to infer it (0.5)',
      number('tissue-threshold', 0.001, 1),
    )
    .option('--batch-size <n>', 'patches per inference call', number('batch-size', 1, 512, true))
    .option('--threads <n>', 'inference threads (0 = chosen for this machine)', number('threads', 0, 1024, true), 0)
    .addOption(new Option('--provider <name>', 'execution provider').choices([...EXECUTION_PROVIDERS]).default('cpu'))
    .option(
      '--smoothing-um <um>',
      'smooth the mask: erode r, dilate 2r, erode r (0 = none, as the reference)',
      number('smoothing-um', 0, 10000),
    )
    .option('--roi <file.geojson>', 'only segment inside this Polygon/MultiPolygon (level-0 pixels)')
    .addOption(
      new Option('--reference <rules>', "rule set (README: FastPathology's rules)")
        .choices([...REFERENCE_NAMES])
        .default('fast'),
    );
  return addLimitOptions(command).action(async (slide: string, opts: Omit<SegmentRun, 'slide' | 'limits'>) => {
    checkThreads('--threads', opts.threads);
    const limits = limitsFromFlags(opts as unknown as Record<string, unknown>);
    await runSegment({ ...opts, slide, limits, summaryStream: opts.out === '-' ? process.stderr : process.stdout });
  });
}
