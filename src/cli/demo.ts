/**
 * `h2g demo [slide] [--out DIR]`: the whole tool, offline, right after set-up. It generates a small
 * pyramidal slide (unless given one) and the untrained `demo` model set, segments the slide with
 * them and writes DIR/demo.geojson and DIR/demo-overlay.png. Untrained weights draw regions that
 * mean nothing, so the terminal and the GeoJSON say so in capitals.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../output/atomic';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import type { FeatureCollection } from 'geojson';
import { createLogger } from '../log';
import { ensureDemoSet, REPO_ROOT } from '../models/demo-set';
import { modelsHome } from '../models/store';
import { DEMO_WARNING } from '../pipeline/geojson';
import { UsageError } from './errors';
import { type CliIo, processIo } from './models';
import { runSegment } from './segment';

const execFileAsync = promisify(execFile);
const SLIDE_SCRIPT = path.join(REPO_ROOT, 'scripts', 'make-demo-slide.js');

export const DEMO_BANNER = [
  '#'.repeat(78),
  '#  DEMO ONLY: UNTRAINED WEIGHTS. The regions below come from randomly initialised networks',
  '#  and MEAN NOTHING CLINICALLY. Never use them for diagnosis or research results.',
  '#'.repeat(78),
].join('\n');

export interface DemoOptions {
  slide?: string;
  out: string;
  /** Draw the synthetic slide even when the shared CMU sample is present (what a fresh clone gets). */
  synthetic?: boolean;
  threads?: number;
  io?: CliIo;
}

export interface DemoResult {
  slide: string;
  modelDirectory: string;
  geojson: string;
  overlay: string;
  overlaySize: { width: number; height: number };
  regions: number;
}

/** Width and height from a PNG's IHDR chunk, to report (and test) the picture actually written. */
export function pngSize(data: Buffer): { width: number; height: number } {
  if (data.length < 24 || data.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

async function makeSlide(out: string, synthetic: boolean): Promise<{ file: string; source: string }> {
  const file = path.join(out, synthetic ? 'demo-slide-synthetic.tif' : 'demo-slide.tif');
  // The script renames a finished file into place, so an existing one is complete.
  if (existsSync(file)) return { file, source: `${file} (from an earlier run)` };
  const args = [SLIDE_SCRIPT, '--out', file, ...(synthetic ? ['--synthetic'] : [])];
  const { stdout } = await execFileAsync(process.execPath, args).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`cannot make the demo slide: ${(err.stderr || err.message).trim()}`);
  });
  const made = JSON.parse(stdout) as { source: string; width: number; height: number; mppX: number };
  return { file, source: `${made.source}, ${made.width} x ${made.height} px at ${made.mppX.toFixed(3)} um/px` };
}

/**
 * Marks the collection itself as well as each feature: a collection with no regions has no feature
 * to carry the pipeline's per-feature warning, and it must still say what made it.
 */
function markDemo(fc: FeatureCollection, modelDirectory: string, slide: string): FeatureCollection {
  for (const f of fc.features) {
    const meta = ((f.properties ??= {}).metadata ??= {}) as Record<string, string>;
    meta['h2gnet.demo_weights'] = 'true';
    meta['h2gnet.warning'] = DEMO_WARNING;
  }
  const metadata = {
    ...(fc as { metadata?: Record<string, string> }).metadata,
    'h2gnet.demo_weights': 'true',
    'h2gnet.warning': DEMO_WARNING,
    'h2gnet.model_directory': modelDirectory,
    'h2gnet.slide': slide,
  };
  // A GeoJSON "foreign member" (RFC 7946 6.1): readers that do not know it ignore it.
  return { type: 'FeatureCollection', metadata, features: fc.features } as FeatureCollection;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const io = options.io ?? processIo();
  const say = (text: string) => io.stdout.write(`${text}\n`);
  const out = path.resolve(options.out);
  await mkdir(out, { recursive: true });
  say(DEMO_BANNER);

  const home = modelsHome(io.env);
  say(`preparing the demo model set in ${home} ...`);
  const set = await ensureDemoSet(home, io.env);
  say(`  ${set.generated ? 'generated' : 'reusing'} ${set.directory}`);

  let slide: string;
  if (options.slide) {
    slide = path.resolve(options.slide);
    say(`slide: ${slide}`);
  } else {
    const made = await makeSlide(out, options.synthetic ?? false);
    slide = made.file;
    say(`slide: ${slide} (${made.source})`);
  }

  const geojson = path.join(out, 'demo.geojson');
  const overlay = path.join(out, 'demo-overlay.png');
  const partial = `${geojson}.partial-${process.pid}`;
  try {
    const result = await runSegment({
      slide,
      settings: { models: set.directory, threads: options.threads ?? 0, provider: 'cpu', limits: {} },
      out: partial,
      overlay,
      log: createLogger(io.env.H2G_LOG_LEVEL ?? 'warn'),
      summaryStream: io.stdout,
    });
    const marked = markDemo(result.geojson, set.directory, slide);
    await writeFileAtomic(geojson, JSON.stringify(marked));
  } finally {
    await rm(partial, { force: true });
  }
  const collection = JSON.parse(await readFile(geojson, 'utf8')) as FeatureCollection;
  const overlaySize = pngSize(await readFile(overlay));
  say(
    [
      `wrote ${geojson}: ${collection.features.length} "Tumor" regions (GeoJSON, level-0 pixel coordinates)`,
      `wrote ${overlay}: ${overlaySize.width} x ${overlaySize.height} px (heatmap in red, mask outline)`,
      DEMO_BANNER,
      'Next: get the published H2G-Net weights, then segment your own slide with them:',
      '  h2g models pull',
      '  h2g segment your-slide.svs --out your-slide.geojson --overlay your-slide.png',
    ].join('\n'),
  );
  return {
    slide,
    modelDirectory: set.directory,
    geojson,
    overlay,
    overlaySize,
    regions: collection.features.length,
  };
}

function threadCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1024) throw new UsageError(`--threads must be 0..1024, got '${value}'`);
  return n;
}

export function demoCommand(io: CliIo = processIo()): Command {
  return new Command('demo')
    .description('offline demo: segment a generated slide (or yours) with UNTRAINED demo weights')
    .argument('[slide]', 'a slide of your own (default: a small generated pyramidal slide)')
    .option('-o, --out <dir>', 'where demo.geojson, demo-overlay.png and the demo slide go', 'out')
    .option('--synthetic', 'draw the synthetic slide even when the shared CMU sample is present')
    .option('--threads <n>', 'inference threads (0 = all cores)', threadCount, 0)
    .action(async (slide: string | undefined, opts: { out: string; synthetic?: boolean; threads: number }) => {
      await runDemo({ slide, out: opts.out, synthetic: opts.synthetic, threads: opts.threads, io });
    });
}
