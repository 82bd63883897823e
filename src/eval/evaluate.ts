/**
 * Predictions against ground truth, per slide, at the refinement resolution as the paper evaluates:
 * both GeoJSON files rasterised onto the same size x size grid stretched over the slide's level 0
 * (the refinement network's own grid, 1024 x 1024 by default), then Dice, recall and precision.
 */
import { OpenSlide } from '../slide/openslide';
import { readPolygons, TUMOUR_CLASS } from './annotations';
import { METRICS, type Metric, type Overlap, overlap, type Summary, summarise } from './metrics';
import { rasterise } from './raster';

export interface EvalCase {
  id: string;
  slide: string;
  prediction: string;
  truth: string;
}

export interface SlideResult extends Overlap {
  id: string;
  slide: string;
  prediction: string;
  truth: string;
  /** The slide's level-0 size. */
  width: number;
  height: number;
}

export interface EvaluationReport {
  size: number;
  className: string;
  slides: SlideResult[];
  summary: Record<Metric, Summary>;
}

export const DEFAULT_EVAL_SIZE = 1024;

async function slideSize(file: string): Promise<{ width: number; height: number }> {
  const slide = await OpenSlide.open(file);
  try {
    return { width: slide.levels[0]!.width, height: slide.levels[0]!.height };
  } finally {
    await slide.close();
  }
}

export async function evaluateCase(c: EvalCase, size = DEFAULT_EVAL_SIZE, cls = TUMOUR_CLASS): Promise<SlideResult> {
  const { width, height } = await slideSize(c.slide);
  const grid = { width: size, height: size, sx: width / size, sy: height / size };
  const predicted = rasterise(await readPolygons(c.prediction, cls), grid);
  const truth = rasterise(await readPolygons(c.truth, cls), grid);
  return { ...c, width, height, ...overlap(predicted, truth) };
}

export async function evaluate(
  cases: readonly EvalCase[],
  options: { size?: number; className?: string } = {},
): Promise<EvaluationReport> {
  const size = options.size ?? DEFAULT_EVAL_SIZE;
  const className = options.className ?? TUMOUR_CLASS;
  const slides: SlideResult[] = [];
  for (const c of cases) slides.push(await evaluateCase(c, size, className));
  const summary = Object.fromEntries(METRICS.map((m) => [m, summarise(slides.map((s) => s[m]))])) as Record<
    Metric,
    Summary
  >;
  return { size, className, slides, summary };
}
