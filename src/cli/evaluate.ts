/**
 * `h2g evaluate`: predicted tumour regions against ground truth, per slide and over the set.
 *
 *   h2g evaluate --dataset dataset.json --predictions DIR [--split test]   (DIR/<id>.geojson per slide)
 *   h2g evaluate --slide S.svs --prediction P.geojson --truth T.geojson [--slide ... ]
 *
 * Prints a table (Dice, recall, precision per slide, mean +- std), and writes --csv / --json files
 * (`-` = stdout, and the table then goes to stderr).
 */
import { rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { TUMOUR_CLASS } from '../eval/annotations';
import { readDataset, SPLITS } from '../eval/dataset';
import { DEFAULT_EVAL_SIZE, type EvalCase, evaluate } from '../eval/evaluate';
import { formatTable, toCsv, toJson } from '../eval/report';
import { UsageError } from './errors';

interface EvaluateOptions {
  dataset?: string;
  predictions?: string;
  split?: (typeof SPLITS)[number];
  slide: string[];
  prediction: string[];
  truth: string[];
  size: number;
  class: string;
  csv?: string;
  json?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function parseSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16 || n > 8192)
    throw new UsageError(`--size must be a whole number between 16 and 8192, got '${value}'`);
  return n;
}

async function datasetCases(o: EvaluateOptions): Promise<EvalCase[]> {
  if (!o.predictions) throw new UsageError('--dataset needs --predictions DIR (holding <slide id>.geojson)');
  const st = await stat(o.predictions).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`--predictions: no such directory: ${o.predictions}`);
  const dataset = await readDataset(o.dataset!);
  const slides = dataset.slides.filter((s) => !o.split || s.split === o.split);
  if (slides.length === 0) throw new Error(`${dataset.file} has no slide${o.split ? ` in the ${o.split} split` : ''}`);
  const cases = slides.map((s) => ({
    id: s.id,
    slide: s.slide,
    truth: s.annotations,
    prediction: path.resolve(o.predictions!, `${s.id}.geojson`),
  }));
  const missing: string[] = [];
  for (const c of cases) if (!(await stat(c.prediction).catch(() => null))?.isFile()) missing.push(c.id);
  if (missing.length) {
    throw new Error(
      `no prediction in ${path.resolve(o.predictions)} for ${missing.length} slide(s): ${missing.join(', ')} (expected <id>.geojson)`,
    );
  }
  return cases;
}

function pairedCases(o: EvaluateOptions): EvalCase[] {
  const n = o.slide.length;
  if (n === 0) throw new UsageError('give --dataset FILE --predictions DIR, or --slide, --prediction and --truth');
  if (o.prediction.length !== n || o.truth.length !== n) {
    throw new UsageError(
      `each --slide needs one --prediction and one --truth (got ${n}, ${o.prediction.length}, ${o.truth.length})`,
    );
  }
  return o.slide.map((s, i) => ({
    id: path.basename(s).replace(/\.[^.]+$/, ''),
    slide: s,
    prediction: o.prediction[i]!,
    truth: o.truth[i]!,
  }));
}

/** Written next to the target under a temporary name, then renamed: never a half file, never an input. */
async function writeOutput(target: string, text: string, inputs: Set<string>): Promise<void> {
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  const full = path.resolve(target);
  if (inputs.has(full)) throw new UsageError(`refusing to write over an input file: ${full}`);
  const tmp = `${full}.partial-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, full);
}

export async function runEvaluate(o: EvaluateOptions): Promise<void> {
  if (o.dataset && o.slide.length)
    throw new UsageError('give either --dataset or --slide/--prediction/--truth, not both');
  if (o.split && !o.dataset) throw new UsageError('--split needs --dataset');
  const cases = o.dataset ? await datasetCases(o) : pairedCases(o);
  const report = await evaluate(cases, { size: o.size, className: o.class });
  const inputs = new Set(cases.flatMap((c) => [c.slide, c.prediction, c.truth].map((p) => path.resolve(p))));
  if (o.dataset) inputs.add(path.resolve(o.dataset));
  const toStdout = o.csv === '-' || o.json === '-';
  (toStdout ? process.stderr : process.stdout).write(formatTable(report));
  if (o.csv) await writeOutput(o.csv, toCsv(report), inputs);
  if (o.json) await writeOutput(o.json, toJson(report), inputs);
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description(
      'Dice, recall and precision of predicted tumour regions against ground truth, per slide and mean +- std',
    )
    .option('--dataset <file>', 'a training dataset file: its slides and annotations are the ground truth')
    .option('--predictions <dir>', 'with --dataset: the folder of predictions, <slide id>.geojson')
    .addOption(new Option('--split <split>', 'with --dataset: only the slides of this split').choices(SPLITS))
    .option('--slide <file>', 'a slide (repeatable; pairs with --prediction and --truth in order)', collect, [])
    .option('--prediction <file>', 'predicted GeoJSON (h2g segment output)', collect, [])
    .option('--truth <file>', 'ground-truth GeoJSON (QuPath export, level-0 pixels of the slide file)', collect, [])
    .option(
      '--size <n>',
      `grid side the masks are compared on (the refinement resolution)`,
      parseSize,
      DEFAULT_EVAL_SIZE,
    )
    .option('--class <name>', 'classification name of tumour features in both files', TUMOUR_CLASS)
    .option('--csv <file>', 'write the per-slide rows and mean/std as CSV (- = stdout)')
    .option('--json <file>', 'write the report as JSON (- = stdout)')
    .action(async (opts: EvaluateOptions) => runEvaluate(opts));
}
