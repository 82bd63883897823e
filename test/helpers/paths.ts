/** Where tests find shared real data and the slides global-setup generates from it. */
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_DATA = path.resolve(ROOT, '..', 'shared', 'data');
export const CMU_SMALL = path.join(SHARED_DATA, 'CMU-1-Small-Region.svs');
export const BROKEN_SVS = path.join(SHARED_DATA, 'broken.svs');
export const FOREIGN_ONNX = path.join(SHARED_DATA, 'mobilenetv2-12-int8.onnx');

/** Generated once per checkout by test/setup/global-setup.ts (gitignored). */
export const TEST_DATA = path.join(ROOT, '.cache', 'test-data');
/** 2x2 replicate of CMU-1-Small-Region as a 40x (0.25 um/px) pyramidal generic TIFF: 4440 x 5934. */
export const PYRAMID_40X = path.join(TEST_DATA, 'pyramid40x.tif');
/** The same pixels with a placeholder resolution (0.254 px/inch), so no usable pixel size. */
export const NO_MPP_TIFF = path.join(TEST_DATA, 'no-mpp.tif');
