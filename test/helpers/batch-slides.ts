/**
 * Small, distinct slides for batch tests: crops of the shared CMU-1 sample at different places, each a
 * tiled JPEG pyramid at 0.25 um/px made with libvips (generated once into .cache/test-data/batch/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CMU_SMALL, TEST_DATA } from './paths';

/** Top-left corners of the crops (the sample is 2220 x 2967 px). */
const CORNERS: readonly [number, number][] = [
  [0, 0],
  [684, 0],
  [0, 700],
  [684, 700],
  [0, 1431],
  [684, 1431],
  [342, 350],
  [342, 1100],
];
const SIDE = 1536;

export function smallSlides(count: number): string[] {
  if (count > CORNERS.length) throw new Error(`only ${CORNERS.length} distinct small slides are defined`);
  const dir = path.join(TEST_DATA, 'batch');
  mkdirSync(dir, { recursive: true });
  return CORNERS.slice(0, count).map(([x, y], i) => {
    const file = path.join(dir, `crop-${i}.tif`);
    if (existsSync(file)) return file;
    const crop = path.join(dir, `crop-${i}.partial.v`);
    const rgb = path.join(dir, `crop-${i}.partial-rgb.v`);
    const tmp = path.join(dir, `crop-${i}.partial.tif`);
    const vips = (...args: string[]) => execFileSync('vips', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    vips('crop', CMU_SMALL, crop, String(x), String(y), String(SIDE), String(SIDE));
    vips('extract_band', crop, rgb, '0', '--n', '3');
    vips(
      'tiffsave',
      rgb,
      tmp,
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
      '--xres',
      '4000',
      '--yres',
      '4000',
      '--resunit',
      'cm',
    );
    rmSync(crop, { force: true });
    rmSync(rgb, { force: true });
    renameSync(tmp, file);
    return file;
  });
}
