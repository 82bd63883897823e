/**
 * `h2g segment <slide> --out <file.geojson>`: the whole pipeline on one slide, with optional heatmap,
 * mask and overlay files and a summary at the end.
 */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { createLogger, type Logger } from '../log';
import { type ModelSet, loadWarmModelSet, modelFilePaths, readModelSetManifest } from '../models/model-set';
import { parseRoi } from '../pipeline/options';
import { segmentWhileLoading } from '../pipeline/segment';
import { DEFAULT_OPTIONS, type SegmentationResult, type SegmentSummary } from '../pipeline/types';
import { checkOutputPaths, copyFileAtomic, writeFileAtomic } from '../output/atomic';
import { writeNpy } from '../output/npy';
import { renderOverlay } from '../output/overlay';
import { encodeMaskPng, encodeRgbPng } from '../output/png';
import { DEMO_WARNING } from '../pipeline/geojson';
import type { Limits } from '../pipeline/limits';
import { jobOptions, type PipelineSettings, sessionOptions, settingsLimits } from '../pipeline/settings';
import type { MultiPolygon, Polygon } from 'geojson';
import { OpenSlide } from '../slide/openslide';
import { UsageError } from './errors';
import { addPipelineOptions, modelDirectoryOf, type PipelineFlags, pipelineSettings } from './pipeline-options';
import { createProgressReporter } from './progress';

export interface SegmentRun {
  slide: string;
  settings: PipelineSettings;
  out: string;
  saveHeatmap?: string;
  saveMask?: string;
  overlay?: string;
  roi?: string;
  /** Reuse and store results in the result cache (true = the default cache directory). */
  cache?: string | true;
  log?: Logger;
  /** Print the human summary to this stream (default stderr). */
  summaryStream?: NodeJS.WritableStream;
}

export function formatSummary(
  s: SegmentSummary,
  grid: { rows: number; cols: number },
  demo: boolean,
  cached = false,
): string {
  const stages = Object.entries(s.stageSeconds)
    .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
    .join(', ');
  return [
    ...(demo ? [`WARNING: ${DEMO_WARNING}`] : []),
    ...(cached
      ? ['result:           from the result cache (computed earlier with the same slide, models and options)']
      : []),
    `patches inferred: ${s.patchesInferred} of ${s.patchesTotal} (grid ${grid.rows} x ${grid.cols})`,
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

async function readRoi(run: SegmentRun, limits: Limits): Promise<Polygon | MultiPolygon | undefined> {
  if (run.roi === undefined) return undefined;
  return parseRoi(await readRoiFile(run.roi, limits.maxRoiFileBytes), limits.maxRoiVertices);
}

function outputsOf(run: SegmentRun): Record<string, string | undefined> {
  return { '--out': run.out, '--save-heatmap': run.saveHeatmap, '--save-mask': run.saveMask, '--overlay': run.overlay };
}

/** Starts loading the model set (on its own thread; warmed up on a GPU); resolves to the set, ready. */
function startLoading(dir: string, settings: PipelineSettings, log: Logger): Promise<ModelSet> {
  const started = performance.now();
  const batchSize = settings.batchSize ?? DEFAULT_OPTIONS.batchSize;
  const loading = loadWarmModelSet(dir, sessionOptions(settings), batchSize).then(({ set, warmedUp }) => {
    log.info(
      {
        models: set.directory,
        demo: set.demo,
        precision: set.precision,
        provider: set.provider,
        threads: set.threads,
        warmedUp,
        ms: Math.round(performance.now() - started),
      },
      'models loaded',
    );
    return set;
  });
  loading.catch(() => undefined); // awaited by the pipeline; a plan that fails first must not leave it unhandled
  return loading;
}

/** Runs one segmentation and writes the requested files; used by `h2g segment` and `h2g demo`. */
export async function runSegment(run: SegmentRun): Promise<SegmentationResult> {
  const log = run.log ?? createLogger();
  const limits = settingsLimits(run.settings);
  const roi = await readRoi(run, limits);
  const outputs = outputsOf(run);
  // Before any work: no output may be an input (the slide, the ROI, a model file) or another output.
  await checkOutputPaths([run.slide, ...(run.roi !== undefined ? [run.roi] : [])], outputs);
  const { dir, manifest } = await readModelSetManifest(await modelDirectoryOf(run.settings));
  await checkOutputPaths(modelFilePaths(dir, manifest), outputs);
  // The models load while the slide opens and its tissue mask is computed (issue 17: no fixed
  // overhead on small slides); the pipeline waits for them only when the patches are planned.
  const loading = startLoading(dir, run.settings, log);
  const progress = createProgressReporter(log);
  let slide: OpenSlide | null = null;
  try {
    slide = await OpenSlide.open(run.slide, { limits });
    log.info({ slide: run.slide, models: dir }, 'segmenting');
    const result = await segmentWhileLoading(
      slide,
      manifest.parameters,
      loading,
      { ...jobOptions(run.settings), roi },
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
    const demo = (await loading).demo;
    (run.summaryStream ?? process.stderr).write(`${formatSummary(result.summary, result.heatmap, demo)}\n`);
    return result;
  } finally {
    progress.stop();
    await loading.then(
      (set) => set.release(),
      () => undefined,
    );
    await slide?.close();
  }
}

/** `h2g segment --cache`: the result and the requested files come from the cache entry. */
export async function runCachedSegment(run: SegmentRun): Promise<void> {
  const log = run.log ?? createLogger();
  const roi = await readRoi(run, settingsLimits(run.settings));
  await checkOutputPaths([run.slide, ...(run.roi !== undefined ? [run.roi] : [])], outputsOf(run));
  const progress = createProgressReporter(log);
  // Loaded here, not at the top: a plain `h2g segment` does not pay for the result cache's modules.
  const { defaultCacheDir } = await import('../batch/cache');
  const { segmentThroughCache } = await import('../batch/one-slide');
  try {
    const { entry, cached } = await segmentThroughCache({
      slide: run.slide,
      modelDirectory: await modelDirectoryOf(run.settings),
      cacheDir: run.cache === true || run.cache === undefined ? defaultCacheDir() : run.cache,
      settings: run.settings,
      roi,
      log,
      onProgress: progress.onProgress,
    });
    progress.stop();
    if (run.out === '-') process.stdout.write(`${await readFile(entry.files.geojson, 'utf8')}\n`);
    else await copyFileAtomic(entry.files.geojson, run.out);
    if (run.saveHeatmap) await copyFileAtomic(entry.files.heatmap, run.saveHeatmap);
    if (run.saveMask) await copyFileAtomic(entry.files.mask, run.saveMask);
    if (run.overlay) await copyFileAtomic(entry.files.overlay, run.overlay);
    const s = entry.summary;
    (run.summaryStream ?? process.stderr).write(
      `${formatSummary(s.figures, s.heatmap, s.provenance.run.demo, cached)}\n`,
    );
  } finally {
    progress.stop();
  }
}

export function segmentCommand(): Command {
  const command = new Command('segment')
    .description('segment tumour regions in a slide and write them as GeoJSON (level-0 pixel coordinates)')
    .argument('<slide>', 'whole-slide image OpenSlide can read')
    .requiredOption('-o, --out <file>', "GeoJSON FeatureCollection to write ('-' = stdout)");
  return addPipelineOptions(command)
    .option('--save-heatmap <file.npy>', 'patch heatmap as float32 NumPy array [rows, cols]')
    .option('--save-mask <file.png>', 'refinement mask as 8-bit PNG (255 = tumour)')
    .option('--overlay <file.png>', 'low-resolution picture with the heatmap and mask drawn on it')
    .option('--roi <file.geojson>', 'only segment inside this Polygon/MultiPolygon (level-0 pixels)')
    .option(
      '--cache [dir]',
      'reuse and store the result in the result cache (default: $H2G_CACHE, else ~/.cache/h2gnet/results)',
    )
    .action(async (slide: string, opts: Omit<SegmentRun, 'slide' | 'settings'> & PipelineFlags) => {
      const settings = pipelineSettings(opts);
      const run = { ...opts, slide, settings, summaryStream: opts.out === '-' ? process.stderr : process.stdout };
      await (run.cache ? runCachedSegment(run) : runSegment(run));
    });
}
