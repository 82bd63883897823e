/**
 * Bilinear resampling with pixel-centre alignment and clamp-to-edge, the rule of an OpenCL/GL linear
 * sampler (what FastPathology's resizer uses). Written here rather than taken from sharp/libvips
 * because those antialias when shrinking, which would not match the reference.
 */

/** Resizes `channels`-interleaved data of any numeric array type into a Float32Array. */
export function resizeBilinear(
  src: ArrayLike<number>,
  srcWidth: number,
  srcHeight: number,
  channels: number,
  dstWidth: number,
  dstHeight: number,
): Float32Array {
  const out = new Float32Array(dstWidth * dstHeight * channels);
  const sx = srcWidth / dstWidth;
  const sy = srcHeight / dstHeight;
  const xs = axisWeights(dstWidth, srcWidth, sx);
  for (let y = 0; y < dstHeight; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), srcHeight - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, srcHeight - 1);
    const wy = fy - y0;
    const row0 = y0 * srcWidth;
    const row1 = y1 * srcWidth;
    for (let x = 0; x < dstWidth; x++) {
      const x0 = xs.lo[x]!;
      const x1 = xs.hi[x]!;
      const wx = xs.w[x]!;
      const o = (y * dstWidth + x) * channels;
      for (let c = 0; c < channels; c++) {
        const a = src[(row0 + x0) * channels + c]!;
        const b = src[(row0 + x1) * channels + c]!;
        const d = src[(row1 + x0) * channels + c]!;
        const e = src[(row1 + x1) * channels + c]!;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[o + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

function axisWeights(dst: number, srcSize: number, scale: number): { lo: Int32Array; hi: Int32Array; w: Float32Array } {
  const lo = new Int32Array(dst);
  const hi = new Int32Array(dst);
  const w = new Float32Array(dst);
  for (let i = 0; i < dst; i++) {
    const f = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), srcSize - 1);
    lo[i] = Math.floor(f);
    hi[i] = Math.min(lo[i]! + 1, srcSize - 1);
    w[i] = f - lo[i]!;
  }
  return { lo, hi, w };
}
