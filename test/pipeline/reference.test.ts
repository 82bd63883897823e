/**
 * The pipeline against an independent NumPy implementation of the reference rules
 * (test/reference/h2g_reference.py) on real slides: CMU-1 (20x, no 10x level: patches resampled) and a
 * libvips pyramid with a 10x level (patches read directly). The oracle models make the heatmap and
 * mask closed-form functions of the pixels, so the reference computes them without any network.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModelSet, type ModelSet } from '../../src/models/model-set';
import { tissueFractions, planPatchGrid } from '../../src/pipeline/grid';
import { readPatchesInto } from '../../src/pipeline/patch-reader';
import { refinementInputs } from '../../src/pipeline/refine';
import { segmentSlide } from '../../src/pipeline/segment';
import type { SegmentationResult } from '../../src/pipeline/types';
import { OpenSlide } from '../../src/slide/openslide';
import { readNpy } from '../helpers/npy';
import { SYSTEM_PYTHON } from '../helpers/openslide-tools';
import { CMU_SMALL, MODELS, PYRAMID_40X } from '../helpers/paths';

const CELLS: [number, number][] = [
  [3, 1],
  [5, 4],
  [0, 0],
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each([
  ['CMU-1-Small-Region.svs (no 10x level)', CMU_SMALL, true],
  ['generated 40x pyramid (10x level)', PYRAMID_40X, false],
])('%s', (_name, slidePath, resampled) => {
  let refDir: string;
  let grid: {
    rows: number;
    cols: number;
    width: number;
    height: number;
    resample: boolean;
    inferred: number;
    lowResLevel: number;
  };
  let slide: OpenSlide;
  let models: ModelSet;
  let result: SegmentationResult;

  beforeAll(async () => {
    refDir = mkdtempSync(path.join(os.tmpdir(), 'h2g-ref-'));
    execFileSync(SYSTEM_PYTHON, [
      path.join(__dirname, '..', 'reference', 'h2g_reference.py'),
      slidePath,
      refDir,
      '--cells',
      CELLS.map((c) => c.join(',')).join(';'),
    ]);
    grid = JSON.parse(readFileSync(path.join(refDir, 'grid.json'), 'utf8'));
    slide = await OpenSlide.open(slidePath);
    models = await loadModelSet(MODELS.oracle, { provider: 'cpu', threads: 1 });
    result = await segmentSlide(slide, models, { reference: 'h2g' });
  });

  afterAll(async () => {
    await slide?.close();
    await models?.release();
  });

  test('patch grid: size at 10x, rows, columns, direct or resampled', () => {
    const plan = planPatchGrid(slide.levels, slide.pixelSize!.x, 1.0, 256);
    expect(plan.resample).toBe(resampled);
    expect(grid.resample).toBe(resampled);
    expect({ rows: plan.rows, cols: plan.cols, width: plan.width, height: plan.height }).toEqual({
      rows: grid.rows,
      cols: grid.cols,
      width: grid.width,
      height: grid.height,
    });
    expect(result.heatmap.rows).toBe(grid.rows);
    expect(result.heatmap.cols).toBe(grid.cols);
  });

  test('tissue mask is identical', () => {
    const ref = readNpy(path.join(refDir, 'tissue.npy'));
    expect(ref.shape).toEqual([result.tissueMask.height, result.tissueMask.width]);
    let differing = 0;
    for (let i = 0; i < ref.data.length; i++) if (ref.data[i] !== result.tissueMask.data[i]) differing++;
    expect(differing).toBe(0);
  });

  test('tissue share per patch and the set of inferred patches agree', () => {
    const ref = readNpy(path.join(refDir, 'fractions.npy'));
    const plan = planPatchGrid(slide.levels, slide.pixelSize!.x, 1.0, 256);
    const ours = tissueFractions(plan, result.tissueMask, slide.width, slide.height);
    expect(maxAbsDiff(ours, ref.data)).toBeLessThan(1e-6);
    expect(result.summary.patchesInferred).toBe(grid.inferred);
    expect(grid.inferred).toBeGreaterThan(0);
  });

  test('patch pixels agree with the reference read/resample', async () => {
    const plan = planPatchGrid(slide.levels, slide.pixelSize!.x, 1.0, 256);
    for (const [r, c] of CELLS) {
      const ours = new Float32Array(256 * 256 * 3);
      await readPatchesInto(slide, plan, [r * plan.cols + c], ours);
      const ref = readNpy(path.join(refDir, `patch_${r}_${c}.npy`));
      expect(maxAbsDiff(ours, ref.data)).toBeLessThan(resampled ? 1e-5 : 1e-7);
    }
  });

  test('heatmap (oracle patch model) agrees, 0 for skipped patches', () => {
    const ref = readNpy(path.join(refDir, 'oracle_heatmap.npy'));
    expect(maxAbsDiff(result.heatmap.values, ref.data)).toBeLessThan(1e-4);
    const nonZero = Array.from(result.heatmap.values).filter((v) => v > 0).length;
    expect(nonZero).toBe(grid.inferred);
  });

  test('refinement image input and mask (oracle refinement) agree', () => {
    const refImage = readNpy(path.join(refDir, 'lowres_1024.npy'));
    const inputs = refinementInputs(result.lowResImage, result.heatmap, 1024);
    expect(maxAbsDiff(inputs.image, refImage.data)).toBeLessThan(1e-5);
    const refMask = readNpy(path.join(refDir, 'oracle_mask.npy'));
    let differing = 0;
    for (let i = 0; i < refMask.data.length; i++) if (refMask.data[i] !== result.mask.data[i]) differing++;
    // Pixels exactly on the oracle's threshold may round either way in float32 vs float64.
    expect(differing / refMask.data.length).toBeLessThan(1e-4);
  });
});
