/**
 * Small, distinct slides for batch tests: 1536 px crops of the shared CMU-1 sample at different places,
 * each a tiled JPEG pyramid at the sample's own 0.5 um/px (a 3 x 3 patch grid at 10x, several patches
 * with tissue), made with libvips once into .cache/test-data/batch/.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { jpegPyramid, makeOnce, vips } from '../setup/fixtures';
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
    const file = path.join(dir, `cmu-crop-${i}.tif`);
    makeOnce(file, (tmp) => {
      const crop = `${tmp}.crop.v`;
      const rgb = `${tmp}.rgb.v`;
      vips(['crop', CMU_SMALL, crop, String(x), String(y), String(SIDE), String(SIDE)]);
      vips(['extract_band', crop, rgb, '0', '--n', '3']);
      jpegPyramid(rgb, tmp, '2000', 'cm');
      rmSync(crop, { force: true });
      rmSync(rgb, { force: true });
    });
    return file;
  });
}
