/**
 * `h2g segment <slide> --out <file.geojson>`: the whole pipeline on one slide, with optional heatmap,
 * mask and overlay files and a summary at the end.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { createLogger, type Logger } from '../log';
import { EXECUTION_PROVIDERS, type ExecutionProvider, loadModelSet } from '../models/model-set';
import { resolveModelDirectory } from '../models/select';
import { parseRoi, REFERENCE_NAMES } from '../pipeline/options';
import { segmentSlide } from '../pipeline/segment';
import type { ReferenceName, SegmentationResult } from '../pipeline/types';
import { writeNpyFloat32 } from '../output/npy';
import { renderOverlay } from '../output/overlay';
import { encodeMaskPng, encodeRgbPng } from '../output/png';
import { DEMO_WARNING } from '../pipeline/geojson';
import { OpenSlide } from '../slide/openslide';
import { UsageError } from './errors';
import { createProgressReporter } from './progress';

export interface SegmentRun {
  slide: string;
  /** Model directory or installed set name; undefined = the default selection. */
  models?: string;
  out: string;
  saveHeatmap?: string;
  saveMask?: string;
  overlay?: string;
  mpp?: number;
  tissueThreshold?: number;
  threads: number;
  batchSize?: number;
  provider: ExecutionProvider;
  smoothingUm?: number;
  roi?: string;
  reference?: ReferenceName;
  log?: Logger;
  /** Print the human summary to this stream (default stderr). */
  summaryStream?: NodeJS.WritableStream;
}

function number(name: string, min: number, max: number, integer = false) {
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

/** Runs one segmentation and writes the requested files; used by `h2g segment` and `h2g demo`. */
export async function runSegment(run: SegmentRun): Promise<SegmentationResult> {
  const log = run.log ?? createLogger();
  const roi = run.roi !== undefined ? parseRoi(await readFile(run.roi, 'utf8')) : undefined;
  const modelDir = await resolveModelDirectory({ explicit: run.models });
  const slide = await OpenSlide.open(run.slide);
  const progress = createProgressReporter(log);
  try {
    const models = await loadModelSet(modelDir, { provider: run.provider, threads: run.threads });
    try {
      log.info(
        {
          slide: run.slide,
          models: models.directory,
          demo: models.demo,
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
          tissueThreshold: run.tissueThreshold,
          batchSize: run.batchSize,
          smoothingUm: run.smoothingUm,
          roi,
          reference: run.reference,
        },
        { onProgress: progress.onProgress },
      );
      progress.stop();
      const json = JSON.stringify(result.geojson);
      if (run.out === '-') process.stdout.write(`${json}\n`);
      else await writeFile(run.out, json);
      if (run.saveHeatmap)
        await writeNpyFloat32(run.saveHeatmap, result.heatmap.values, [result.heatmap.rows, result.heatmap.cols]);
      if (run.saveMask) await writeFile(run.saveMask, encodeMaskPng(result.mask));
      if (run.overlay) {
        const picture = renderOverlay(result.lowResImage, result.heatmap, result.mask, slide.width, slide.height);
        await writeFile(run.overlay, encodeRgbPng(picture));
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
  return new Command('segment')
    .description('segment tumour regions in a slide and write them as GeoJSON (level-0 pixel coordinates)')
    .argument('<slide>', 'whole-slide image OpenSlide can read')
    .requiredOption('-o, --out <file>', "GeoJSON FeatureCollection to write ('-' = stdout)")
    .option(
      '-m, --models <dir-or-name>',
      'model directory or installed set (default: $H2G_MODELS, then the installed default)',
    )
    .option('--save-heatmap <file.npy>', 'patch heatmap as float32 NumPy array [rows, cols]')
    .option('--save-mask <file.png>', 'refinement mask as 8-bit PNG (255 = tumour)')
    .option('--overlay <file.png>', 'low-resolution picture with the heatmap and mask drawn on it')
    .option('--mpp <um/px>', "level-0 pixel size; overrides or supplies the slide's", number('mpp', 0.01, 100))
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
    )
    .action(async (slide: string, opts: Omit<SegmentRun, 'slide'>) => {
      await runSegment({ ...opts, slide, summaryStream: opts.out === '-' ? process.stderr : process.stdout });
    });
}
