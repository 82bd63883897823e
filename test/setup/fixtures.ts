/**
 * Generates test data once per checkout (gitignored, under .cache/): slides made with libvips from the
 * shared CMU-1 sample or drawn from known shapes, and ONNX test models from scripts/make_test_models.py.
 * Files are written to a temporary name first so an interrupted run never leaves a half file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import {
  CMU_SMALL,
  FAST_NO_MPP_TIFF,
  FAST_ONETILE_TIFF,
  FAST_SCANNER_TIFF,
  FITTED_MODELS,
  MODELS,
  MODEL_VARIANTS,
  NO_MPP_TIFF,
  PHANTOM_SIDES,
  phantomSlide,
  PYRAMID_40X,
  ROOT,
  SHAPES_TIFF,
  TEST_DATA,
  VENV_PYTHON,
} from '../helpers/paths';
import { SHAPES_HEIGHT, SHAPES_WIDTH, TISSUE_RGB, TUMOUR_RGB, isTumour } from '../helpers/shapes';
import { SYSTEM_PYTHON } from '../helpers/openslide-tools';

export function vips(args: string[]): void {
  execFileSync('vips', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

const TILED = ['--tile', '--tile-width', '256', '--tile-height', '256'];
const TILED_PYRAMID = [...TILED, '--pyramid'];
const DEFLATE = ['--compression', 'deflate'];
/**
 * JPEG without chroma subsampling: FAST's own TIFF reader (plain libjpeg) and OpenSlide then decode the
 * same pixels (with 4:2:0 they upsample chroma differently). Not deflate for the one-tile pyramids:
 * OpenSlide 3.4.1 misreads a deflate tile larger than its level (libtiff adapts the raster width).
 */
const JPEG_444 = ['--compression', 'jpeg', '--Q', '95']; // libvips 8.14: Q >= 90 writes RGB, unsubsampled
/** 4000 px/cm = 0.25 um/px, FAST's 40x. */
const AT_40X = ['--xres', '4000', '--yres', '4000', '--resunit', 'cm'];
const JPEG = ['--compression', 'jpeg', '--Q', '85'];

export function jpegPyramid(src: string, out: string, xres: string, unit: 'cm' | 'inch'): void {
  vips(['tiffsave', src, out, ...TILED_PYRAMID, ...JPEG, '--xres', xres, '--yres', xres, '--resunit', unit]);
}

/** Makes `target` if absent; jest workers may make one at once, so each builds under its own name. */
export function makeOnce(target: string, make: (tmp: string) => void): void {
  if (existsSync(target)) return;
  const tmp = `${target}.partial-${process.pid}${path.extname(target)}`;
  rmSync(tmp, { recursive: true, force: true });
  make(tmp);
  try {
    renameSync(tmp, target);
  } catch (err) {
    // A folder another worker finished first cannot be renamed over: keep that one.
    if (!existsSync(target)) throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Draws the shapes at 1/4 resolution, then vips scales up by 4 (nearest) into a 40x pyramid. */
function makeShapesSlide(tmp: string): void {
  const w = SHAPES_WIDTH / 4;
  const h = SHAPES_HEIGHT / 4;
  const png = new PNG({ width: w, height: h, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rgb = isTumour((x + 0.5) * 4, (y + 0.5) * 4) ? TUMOUR_RGB : TISSUE_RGB;
      png.data.set(rgb, (y * w + x) * 3);
    }
  }
  const small = path.join(TEST_DATA, 'shapes-small.png');
  writeFileSync(small, PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
  const big = path.join(TEST_DATA, 'shapes-big.v');
  vips(['resize', small, big, '4', '--kernel', 'nearest']);
  vips(['tiffsave', big, tmp, ...TILED_PYRAMID, ...DEFLATE, ...AT_40X]);
  rmSync(big, { force: true });
}

/** CMU-1-Small-Region as 3-band RGB (libvips reads slides as RGBA; a lossless TIFF would keep alpha). */
function rgbCmu(): string {
  const rgb = path.join(TEST_DATA, 'cmu-rgb.v');
  makeOnce(rgb, (tmp) => vips(['extract_band', CMU_SMALL, tmp, '0', '--n', '3']));
  return rgb;
}

/**
 * Its top-left 2,048 x 2,560 px: every libvips level is then exactly half the one above. Odd sizes
 * give downsamples such as 4.004, at which OpenSlide cannot address a level's own pixels (it
 * interpolates), while FAST's TIFF reader reads them as they are (README: FastPathology's rules).
 */
function evenCmu(): string {
  const even = path.join(TEST_DATA, 'cmu-rgb-2048x2560.v');
  makeOnce(even, (tmp) => vips(['crop', rgbCmu(), tmp, '0', '0', '2048', '2560']));
  return even;
}

/**
 * Two tiled levels at downsamples 1 and 4 (as many scanners write), joined with libtiff's tiffcp; the
 * second marked as a reduced-resolution image, as OpenSlide's generic-tiff reader wants.
 */
function makeScannerSlide(tmp: string): void {
  const rep = path.join(TEST_DATA, 'rep-3x2.v');
  const l0 = path.join(TEST_DATA, 'scanner-l0.v');
  const l1 = path.join(TEST_DATA, 'scanner-l1.v');
  const tifs = [path.join(TEST_DATA, 'scanner-l0.tif'), path.join(TEST_DATA, 'scanner-l1.tif')];
  vips(['replicate', rgbCmu(), rep, '3', '2']);
  vips(['crop', rep, l0, '0', '0', '6144', '4096']);
  vips(['shrink', l0, l1, '4', '4']);
  [l0, l1].forEach((src, i) => vips(['tiffsave', src, tifs[i]!, ...TILED, ...DEFLATE, ...AT_40X]));
  execFileSync('tiffcp', ['-t', '-w', '256', '-l', '256', '-c', 'zip', ...tifs, tmp], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync('tiffset', ['-d', '1', '-s', '254', '1', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const f of [rep, l0, l1, ...tifs]) rmSync(f, { force: true });
}

export function ensureTestSlides(): void {
  mkdirSync(TEST_DATA, { recursive: true });
  const replicated = path.join(TEST_DATA, 'replicate-2x2.v');
  makeOnce(replicated, (tmp) => vips(['replicate', CMU_SMALL, tmp, '2', '2']));
  // 4000 px/mm = 0.25 um/px, FAST's 40x; 0.01 px/mm is a placeholder resolution (no pixel size).
  makeOnce(PYRAMID_40X, (tmp) => jpegPyramid(replicated, tmp, '4000', 'cm'));
  makeOnce(NO_MPP_TIFF, (tmp) => jpegPyramid(replicated, tmp, '0.01', 'inch'));
  makeOnce(SHAPES_TIFF, makeShapesSlide);
  const pyramid = (xres: string, unit: string) => (tmp: string) =>
    vips([
      'tiffsave',
      evenCmu(),
      tmp,
      ...TILED_PYRAMID,
      ...JPEG_444,
      '--xres',
      xres,
      '--yres',
      xres,
      '--resunit',
      unit,
    ]);
  makeOnce(FAST_ONETILE_TIFF, pyramid('4000', 'cm'));
  makeOnce(FAST_NO_MPP_TIFF, pyramid('0.01', 'inch'));
  makeOnce(FAST_SCANNER_TIFF, makeScannerSlide);
}

export function ensureTestModels(): void {
  for (const key of Object.keys(MODELS) as (keyof typeof MODELS)[]) {
    makeOnce(MODELS[key], (tmp) =>
      execFileSync(
        SYSTEM_PYTHON,
        [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', MODEL_VARIANTS[key], '--out', tmp],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      ),
    );
  }
}

/** Phantom slides for the tests that need tissue a model can tell apart; see helpers/paths.ts. */
export function ensurePhantomSlides(seeds: readonly number[], size: 'large' | 'small' = 'large'): void {
  mkdirSync(TEST_DATA, { recursive: true });
  for (const seed of seeds) {
    const target = phantomSlide(seed, size);
    const script = path.join(ROOT, 'scripts', 'make_phantom_slide.py');
    const args = [script, '--seed', String(seed), '--size', String(PHANTOM_SIDES[size])];
    makeOnce(target, (tmp) =>
      execFileSync(SYSTEM_PYTHON, [...args, '--out', tmp], { stdio: ['ignore', 'ignore', 'inherit'] }),
    );
  }
}

/** The fitted full-size model sets (they need onnxruntime in Python: the project's .venv). */
export function ensureFittedModels(): typeof FITTED_MODELS {
  if (!existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} is missing: run bash scripts/setup-python.sh`);
  for (const [variant, dir] of Object.entries(FITTED_MODELS)) {
    makeOnce(dir, (tmp) =>
      execFileSync(
        VENV_PYTHON,
        [path.join(ROOT, 'scripts', 'make_fitted_models.py'), '--variant', variant, '--out', tmp],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    );
  }
  return FITTED_MODELS;
}

/** The CLI tests run bin/h2g.js, which loads dist/: compile it so it matches the sources under test. */
export function buildDist(): void {
  try {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
  } catch {
    // Type errors still emit JavaScript; `npm run lint` reports them. Tests go on with what compiled.
  }
}
