/**
 * Reads grid patches as the patch model's input: RGB at the patch magnification, scaled to 0..1,
 * written straight into a batch tensor (NHWC). Pixels past the slide's right or bottom edge are white.
 */
import type { BilinearSampling, RegionInto, SlideSource } from '../slide/source';
import { fastResizeBytes } from './fast-resize';
import { type PatchGrid, patchRectLevel0 } from './grid';

const WHITE = 1;

/**
 * Reads the patches of `cells` (row * cols + col) into `out`, patch i at element i * p * p * 3, in
 * `readers` calls at once (each one worker thread) when the source reads natively into floats, else
 * through `readRegion`, converting or sampling here.
 */
export async function readPatchesInto(
  source: SlideSource,
  grid: PatchGrid,
  cells: readonly number[],
  out: Float32Array,
  readers = 1,
): Promise<void> {
  const stride = grid.patchSize * grid.patchSize * 3;
  if (grid.fastResample) {
    await Promise.all(cells.map((cell, i) => readFastResampled(source, grid, cell, out, i * stride)));
    return;
  }
  const reads = cells.map((cell, i) => planPatchRead(source, grid, cell, i * stride));
  if (source.readRegionsInto) {
    const per = Math.ceil(reads.length / Math.max(1, readers));
    const chunks: RegionInto[][] = [];
    for (let i = 0; i < reads.length; i += per) chunks.push(reads.slice(i, i + per));
    await Promise.all(chunks.map((chunk) => source.readRegionsInto!(chunk, out)));
  } else {
    await Promise.all(reads.map((read) => readAndConvert(source, read, out)));
  }
  cells.forEach((cell, i) => padWhite(grid, Math.floor(cell / grid.cols), cell % grid.cols, out, i * stride));
}

/**
 * Reader threads per batch when inference runs on the CPU: one per 256 x 256 px each patch decodes,
 * 1 to 4, so that reading stays a short burst beside inference. One whole tile per patch (a 40x
 * slide's 10x level) gets one thread: each extra thread woken preempts inference. A 20x slide's 514 px
 * regions are 4x that: one thread would decode beside inference for a third of each batch (slowing
 * one of onnxruntime's threads while the other spins), where four finish soon. Measured on 2 cores:
 * the 20x slide's patch stage 1.58x the model alone with 1 reader, 1.32x with 4; the 40x dense slide
 * 1.05x with 1, 1.06x with 4 (and 1.11x with 2: the machine's noise is that large).
 */
export function cpuReaders(grid: PatchGrid): number {
  const p = grid.patchSize;
  const { w, h } = grid.resample ? resampledWindow(grid, patchRectLevel0(grid, 0, 0)) : { w: p, h: p };
  return Math.min(4, Math.max(1, Math.ceil((w * h) / (256 * 256))));
}

/**
 * No level at the patch magnification: the window of the nearest finer level that covers a patch,
 * sampled bilinearly at each patch pixel's centre (at a scale of exactly 2 this is a 2x2 box average).
 */
function resampledWindow(grid: PatchGrid, rect: { x: number; y: number }) {
  const p = grid.patchSize;
  const f = grid.scale / grid.readDownsample; // read-level pixels per patch pixel
  const originU = rect.x / grid.readDownsample;
  const originV = rect.y / grid.readDownsample;
  const u0 = Math.max(0, Math.floor(originU + 0.5 * f - 0.5));
  const v0 = Math.max(0, Math.floor(originV + 0.5 * f - 0.5));
  const u1 = Math.ceil(originU + (p - 0.5) * f - 0.5) + 1;
  const v1 = Math.ceil(originV + (p - 0.5) * f - 0.5) + 1;
  return { f, originU, originV, u0, v0, w: u1 - u0 + 1, h: v1 - v0 + 1 };
}

/** Where a patch's pixels come from: its region at the read level, and its sampling when resampled. */
function planPatchRead(source: SlideSource, grid: PatchGrid, cell: number, offset: number): RegionInto {
  const row = Math.floor(cell / grid.cols);
  const col = cell % grid.cols;
  const p = grid.patchSize;
  const rect = patchRectLevel0(grid, row, col);
  if (!grid.resample) {
    return {
      request: { level: grid.readLevel, x: Math.round(rect.x), y: Math.round(rect.y), width: p, height: p },
      offset,
    };
  }
  const { f, originU, originV, u0, v0, w, h } = resampledWindow(grid, rect);
  const request = {
    level: grid.readLevel,
    x: Math.round(u0 * grid.readDownsample),
    y: Math.round(v0 * grid.readDownsample),
    width: w,
    height: h,
  };
  // Clamp to the level's last pixel, not to the white beyond it (a linear sampler's clamp-to-edge).
  const level = source.levels[grid.readLevel]!;
  const maxU = Math.min(w, level.width - u0) - 1;
  const maxV = Math.min(h, level.height - v0) - 1;
  return { request, offset, sampling: { size: p, scale: f, originU, originV, u0, v0, maxU, maxV } };
}

/**
 * FastPathology's resampled patch: its readSize x readSize region (white past the slide, as FAST pads
 * it), shrunk to the patch size by FAST's resizer (fast-resize.ts). JavaScript only: the native batch
 * reader does not implement FAST's blur, and slides without a 10x level are the minority.
 */
async function readFastResampled(
  source: SlideSource,
  grid: PatchGrid,
  cell: number,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const rect = patchRectLevel0(grid, Math.floor(cell / grid.cols), cell % grid.cols);
  const size = grid.fastResample!.readSize;
  const image = await source.readRegion({
    level: grid.readLevel,
    x: Math.round(rect.x),
    y: Math.round(rect.y),
    width: size,
    height: size,
  });
  const p = grid.patchSize;
  toUnit(fastResizeBytes(image.data, size, size, 3, p, p), p * p * 3, out, offset);
}

/** The JavaScript path, for sources without `readRegionsInto` (pixels streamed by QuPath). */
async function readAndConvert(source: SlideSource, read: RegionInto, out: Float32Array): Promise<void> {
  const { request, offset, sampling } = read;
  const image = await source.readRegion(request);
  if (sampling) sampleBilinear(image.data, request.width, request.height, sampling, out, offset);
  else toUnit(image.data, request.width * request.height * 3, out, offset);
}

/**
 * Bytes -> 0..1 floats. A plain function rather than a loop inside the async reader: V8 runs this loop
 * about twice as fast there (measured in the pipeline: ~1.1 -> ~0.55 ms per 256 x 256 patch).
 */
function toUnit(data: Uint8Array, n: number, out: Float32Array, offset: number): void {
  for (let i = 0; i < n; i++) out[offset + i] = data[i]! / 255;
}

/** Pixels past the slide's right or bottom edge at the patch magnification become white. */
function padWhite(grid: PatchGrid, row: number, col: number, out: Float32Array, offset: number): void {
  const p = grid.patchSize;
  const validW = Math.min(p, grid.width - col * p);
  const validH = Math.min(p, grid.height - row * p);
  if (validW >= p && validH >= p) return;
  for (let y = 0; y < p; y++) {
    const from = y < validH ? validW : 0;
    out.fill(WHITE, offset + (y * p + from) * 3, offset + (y + 1) * p * 3);
  }
}

/**
 * `BilinearSampling` of a w x h RGB region into out from offset on, as 0..1 floats
 * (src/native/pixel_convert.h, SampleBilinear, does the same natively).
 */
function sampleBilinear(
  data: Uint8Array,
  w: number,
  h: number,
  s: BilinearSampling,
  out: Float32Array,
  offset: number,
): void {
  const { size: p, scale: f, originU, originV, u0, v0, maxU, maxV } = s;
  // Sample positions depend on x alone: compute them once per patch, outside the pixel loop.
  const xa = new Int32Array(p);
  const xb = new Int32Array(p);
  const wx = new Float64Array(p);
  for (let x = 0; x < p; x++) {
    const fu = Math.min(Math.max(originU + (x + 0.5) * f - 0.5 - u0, 0), maxU);
    xa[x] = Math.floor(fu);
    xb[x] = Math.min(xa[x]! + 1, w - 1);
    wx[x] = fu - xa[x]!;
  }
  for (let y = 0; y < p; y++) {
    const fv = Math.min(Math.max(originV + (y + 0.5) * f - 0.5 - v0, 0), maxV);
    const ya = Math.floor(fv);
    const yb = Math.min(ya + 1, h - 1);
    const wy = fv - ya;
    for (let x = 0; x < p; x++) {
      const o = offset + (y * p + x) * 3;
      const a0 = (ya * w + xa[x]!) * 3;
      const b0 = (ya * w + xb[x]!) * 3;
      const d0 = (yb * w + xa[x]!) * 3;
      const e0 = (yb * w + xb[x]!) * 3;
      const fx = wx[x]!;
      for (let c = 0; c < 3; c++) {
        const a = data[a0 + c]!;
        const b = data[b0 + c]!;
        const d = data[d0 + c]!;
        const e = data[e0 + c]!;
        const top = a + (b - a) * fx;
        const bottom = d + (e - d) * fx;
        out[o + c] = (top + (bottom - top) * wy) / 255;
      }
    }
  }
}
