/**
 * Generates the test slides from the shared CMU-1 sample with libvips (`vips` CLI), once per checkout.
 * Files are written to a temporary name first so an interrupted run never leaves a half slide.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CMU_SMALL, NO_MPP_TIFF, PYRAMID_40X, TEST_DATA } from '../helpers/paths';

function vips(args: string[]): void {
  execFileSync('vips', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

const TILED_PYRAMID = [
  '--tile',
  '--tile-width',
  '256',
  '--tile-height',
  '256',
  '--pyramid',
  '--compression',
  'jpeg',
  '--Q',
  '85',
];

function makeOnce(target: string, make: (tmp: string) => void): void {
  if (existsSync(target)) return;
  const tmp = `${target}.partial${path.extname(target)}`;
  rmSync(tmp, { force: true });
  make(tmp);
  renameSync(tmp, target);
}

export function ensureTestSlides(): void {
  mkdirSync(TEST_DATA, { recursive: true });
  const replicated = path.join(TEST_DATA, 'replicate-2x2.v');
  makeOnce(replicated, (tmp) => vips(['replicate', CMU_SMALL, tmp, '2', '2']));
  // 4000 px/mm = 0.25 um/px, FAST's 40x.
  makeOnce(PYRAMID_40X, (tmp) =>
    vips(['tiffsave', replicated, tmp, ...TILED_PYRAMID, '--xres', '4000', '--yres', '4000', '--resunit', 'cm']),
  );
  makeOnce(NO_MPP_TIFF, (tmp) =>
    vips(['tiffsave', replicated, tmp, ...TILED_PYRAMID, '--xres', '0.01', '--yres', '0.01', '--resunit', 'inch']),
  );
}
