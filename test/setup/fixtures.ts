/**
 * Generates test data once per checkout (gitignored, under .cache/): slides made with libvips from the
 * shared CMU-1 sample or drawn from known shapes, and ONNX test models from scripts/make_test_models.py.
 * Files are written to a temporary name first so an interrupted run never leaves a half file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { CMU_SMALL, MODELS, NO_MPP_TIFF, PYRAMID_40X, ROOT, SHAPES_TIFF, TEST_DATA } from '../helpers/paths';
import { SHAPES_HEIGHT, SHAPES_WIDTH, TISSUE_RGB, TUMOUR_RGB, isTumour } from '../helpers/shapes';
import { SYSTEM_PYTHON } from '../helpers/openslide-tools';

export function vips(args: string[]): void {
  execFileSync('vips', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

const TILED_PYRAMID = ['--tile', '--tile-width', '256', '--tile-height', '256', '--pyramid'];
const JPEG = ['--compression', 'jpeg', '--Q', '85'];

export function jpegPyramid(src: string, out: string, xres: string, unit: 'cm' | 'inch'): void {
  vips(['tiffsave', src, out, ...TILED_PYRAMID, ...JPEG, '--xres', xres, '--yres', xres, '--resunit', unit]);
}

export function makeOnce(target: string, make: (tmp: string) => void): void {
  if (existsSync(target)) return;
  const tmp = `${target}.partial${path.extname(target)}`;
  rmSync(tmp, { recursive: true, force: true });
  make(tmp);
  renameSync(tmp, target);
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
  vips([
    'tiffsave',
    big,
    tmp,
    ...TILED_PYRAMID,
    '--compression',
    'deflate',
    '--xres',
    '4000',
    '--yres',
    '4000',
    '--resunit',
    'cm',
  ]);
  rmSync(big, { force: true });
}

export function ensureTestSlides(): void {
  mkdirSync(TEST_DATA, { recursive: true });
  const replicated = path.join(TEST_DATA, 'replicate-2x2.v');
  makeOnce(replicated, (tmp) => vips(['replicate', CMU_SMALL, tmp, '2', '2']));
  // 4000 px/mm = 0.25 um/px, FAST's 40x; 0.01 px/mm is a placeholder resolution (no pixel size).
  makeOnce(PYRAMID_40X, (tmp) => jpegPyramid(replicated, tmp, '4000', 'cm'));
  makeOnce(NO_MPP_TIFF, (tmp) => jpegPyramid(replicated, tmp, '0.01', 'inch'));
  makeOnce(SHAPES_TIFF, makeShapesSlide);
}

export function ensureTestModels(): void {
  for (const variant of ['tiny', 'oracle'] as const) {
    makeOnce(MODELS[variant], (tmp) =>
      execFileSync(
        SYSTEM_PYTHON,
        [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', variant, '--out', tmp],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      ),
    );
  }
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
