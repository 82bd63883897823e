/**
 * FAST 4.18's ImageResizer as it runs on an OpenCL CPU device (pocl), reproduced to the bit where
 * FastPathology's results depend on it: the tissue mask shrunk to one pixel per patch (which patches
 * are inferred), resampled patches of slides without a 10x level, and the refinement inputs.
 *
 * What FAST does (probed with pyFAST 4.18.0 + Debian's pocl 3.1 on random images, impulses and sizes,
 * and read from its OpenCL kernels): when an axis shrinks by d > 1 it first blurs with
 * GaussianSmoothing of sigma (d - 1) / 2 on that axis (mask size min(19, ceil(2 sigma) * 2 + 1), weights exp(-(x^2/2sx^2 +
 * y^2/2sy^2)) normalised in float32, clamp-to-edge, accumulated x outer, y inner); an 8-bit image
 * stays 8-bit after the blur (rounded half to even). Then it samples bilinearly at normalised pixel
 * centres, u = ((x + 0.5) / outW) * inW - 0.5 in float32, with pocl's weights; an 8-bit result is
 * truncated, not rounded. Written by hand because no library reproduces pocl's float32 arithmetic.
 *
 * Two of FAST's quirks are reproduced because they change results: an axis that does not shrink while
 * the other does is blurred with three equal taps, and the float kernel's misread mask rows (below).
 */

// Module-level bindings: a global lookup per pixel costs far more in some embedders (jest's vm).
const f = Math.fround;
const round = Math.round;
const trunc = Math.trunc;

export interface GaussianMask {
  nx: number;
  ny: number;
  /** ny rows of nx float32 weights. */
  weights: Float32Array;
}

/**
 * FAST's blur before shrinking by (dx, dy); null when neither axis shrinks. An axis that does not
 * shrink while the other does gets three equal taps (probed: an impulse spreads over three rows when
 * only the width shrinks).
 */
export function downsamplingMask(dx: number, dy: number): GaussianMask | null {
  if (!(dx > 1 || dy > 1)) return null;
  const axis = (d: number) => {
    const s = (d - 1) / 2;
    const n = d > 1 ? Math.min(19, Math.ceil(2 * s) * 2 + 1) : 3;
    return { n, term: (i: number) => (d > 1 && i !== 0 ? (i * i) / (2 * s * s) : 0) };
  };
  const ax = axis(dx);
  const ay = axis(dy);
  const nx = ax.n;
  const ny = ay.n;
  const hx = (nx - 1) / 2;
  const hy = (ny - 1) / 2;
  const weights = new Float32Array(nx * ny);
  let sum = 0;
  for (let x = -hx; x <= hx; x++) {
    for (let y = -hy; y <= hy; y++) {
      const w = f(Math.exp(-(ax.term(x) + ay.term(y))));
      weights[(y + hy) * nx + x + hx] = w;
      sum = f(sum + w);
    }
  }
  for (let i = 0; i < weights.length; i++) weights[i] = f(weights[i]! / sum);
  return { nx, ny, weights };
}

/** Round half to even (OpenCL's convert_uchar_rte), clamped to 0..255. */
function toByteRte(v: number): number {
  if (v <= 0) return 0;
  if (v >= 255) return 255;
  const r = round(v);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

/** One sample position of pocl's linear filter on one axis. */
interface Tap {
  i0: number;
  i1: number;
  a: number;
  oneMinusA: number;
}

function taps(outSize: number, inSize: number): Tap[] {
  const out: Tap[] = [];
  for (let x = 0; x < outSize; x++) {
    const u = f(f(f(x + 0.5) / outSize) * inSize);
    const r0 = Math.floor(f(u - 0.5));
    const a = f(f(u - 0.5) - r0);
    const clamp = (i: number) => (i < 0 ? 0 : i > inSize - 1 ? inSize - 1 : i);
    out.push({ i0: clamp(r0), i1: clamp(r0 + 1), a, oneMinusA: f(1 - a) });
  }
  return out;
}

/** pocl's 2D linear sample: ((1-a)(1-b) T00 + a(1-b) T10 + (1-a)b T01 + ab T11) in float32. */
function lerp2(t00: number, t10: number, t01: number, t11: number, tx: Tap, ty: Tap): number {
  let s = f(f(tx.oneMinusA * ty.oneMinusA) * t00);
  s = f(s + f(f(tx.a * ty.oneMinusA) * t10));
  s = f(s + f(f(tx.oneMinusA * ty.a) * t01));
  return f(s + f(f(tx.a * ty.a) * t11));
}

/**
 * An 8-bit image (channels interleaved) resized as FAST does. Only the pixels the sampler reads are
 * blurred, so shrinking a large tissue mask to a few hundred patches stays cheap.
 */
export function fastResizeBytes(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const mask = downsamplingMask(width / outWidth, height / outHeight);
  const blurred = new Int16Array(width * height * channels).fill(-1);
  const value = (x: number, y: number, c: number): number => {
    const i = (y * width + x) * channels + c;
    if (!mask) return src[i]!;
    let v = blurred[i]!;
    if (v < 0) {
      v = toByteRte(blurAt(src, width, height, channels, mask, x, y, c));
      blurred[i] = v;
    }
    return v;
  };
  const xs = taps(outWidth, width);
  const ys = taps(outHeight, height);
  const out = new Uint8Array(outWidth * outHeight * channels);
  for (let y = 0; y < outHeight; y++) {
    const ty = ys[y]!;
    for (let x = 0; x < outWidth; x++) {
      const tx = xs[x]!;
      for (let c = 0; c < channels; c++) {
        const s = lerp2(
          value(tx.i0, ty.i0, c),
          value(tx.i1, ty.i0, c),
          value(tx.i0, ty.i1, c),
          value(tx.i1, ty.i1, c),
          tx,
          ty,
        );
        out[(y * outWidth + x) * channels + c] = s >= 255 ? 255 : trunc(s);
      }
    }
  }
  return out;
}

/**
 * GaussianSmoothing's float32 sum at one pixel, in its kernel's loop order (x outer, y inner). Its
 * float kernel (`floatKernel`) reads mask row y + halfSizeX: rows that do not exist count as 0.
 */
function blurAt(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  mask: GaussianMask,
  x: number,
  y: number,
  c: number,
  floatKernel = false,
): number {
  const hx = (mask.nx - 1) / 2;
  const hy = (mask.ny - 1) / 2;
  const rowShift = floatKernel ? hx : hy;
  let sum = 0;
  for (let dx = -hx; dx <= hx; dx++) {
    const xx = x + dx < 0 ? 0 : x + dx > width - 1 ? width - 1 : x + dx;
    for (let dy = -hy; dy <= hy; dy++) {
      const row = dy + rowShift;
      if (row < 0 || row >= mask.ny) continue;
      const yy = y + dy < 0 ? 0 : y + dy > height - 1 ? height - 1 : y + dy;
      sum = f(sum + f(mask.weights[row * mask.nx + dx + hx]! * src[(yy * width + xx) * channels + c]!));
    }
  }
  return sum;
}

/**
 * A one-channel float image resized as FAST does, in FAST's own float32 arithmetic at each pixel the
 * sampler reads (exact, where fastResizeFloats' separable blur is within ~1e-7): for decisions at a
 * threshold, such as which patches the tissue mask selects.
 */
export function fastResizeFloatExact(
  src: Float32Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const mask = downsamplingMask(width / outWidth, height / outHeight);
  const cache = new Map<number, number>();
  const value = (x: number, y: number): number => {
    if (!mask) return src[y * width + x]!;
    const i = y * width + x;
    let v = cache.get(i);
    if (v === undefined) {
      v = blurAt(src, width, height, 1, mask, x, y, 0, true);
      cache.set(i, v);
    }
    return v;
  };
  const xs = taps(outWidth, width);
  const ys = taps(outHeight, height);
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const ty = ys[y]!;
    for (let x = 0; x < outWidth; x++) {
      const tx = xs[x]!;
      out[y * outWidth + x] = lerp2(
        value(tx.i0, ty.i0),
        value(tx.i1, ty.i0),
        value(tx.i0, ty.i1),
        value(tx.i1, ty.i1),
        tx,
        ty,
      );
    }
  }
  return out;
}

/**
 * A float image resized as FAST does. The blur (when shrinking) is applied separably, in float64:
 * within ~1e-7 of FAST's float32 2D sum, and far cheaper on a 3,000 px refinement image.
 */
export function fastResizeFloats(
  src: Float32Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const mask = downsamplingMask(width / outWidth, height / outHeight);
  const image = !mask
    ? src
    : mask.nx === mask.ny
      ? blurSeparable(src, width, height, channels, mask)
      : blurFloatRowsMisread(src, width, height, channels, mask, taps(outWidth, width), taps(outHeight, height));
  const xs = taps(outWidth, width);
  const ys = taps(outHeight, height);
  const out = new Float32Array(outWidth * outHeight * channels);
  for (let y = 0; y < outHeight; y++) {
    const ty = ys[y]!;
    const r0 = ty.i0 * width;
    const r1 = ty.i1 * width;
    for (let x = 0; x < outWidth; x++) {
      const tx = xs[x]!;
      const o = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) {
        out[o + c] = lerp2(
          image[(r0 + tx.i0) * channels + c]!,
          image[(r0 + tx.i1) * channels + c]!,
          image[(r1 + tx.i0) * channels + c]!,
          image[(r1 + tx.i1) * channels + c]!,
          tx,
          ty,
        );
      }
    }
  }
  return out;
}

/** FAST's float blur (misread rows and all) at the pixels the sampler reads; used for unequal mask sizes. */
function blurFloatRowsMisread(
  src: Float32Array,
  w: number,
  h: number,
  ch: number,
  mask: GaussianMask,
  xs: readonly Tap[],
  ys: readonly Tap[],
): Float32Array {
  const out = new Float32Array(src.length);
  const cols = [...new Set(xs.flatMap((t) => [t.i0, t.i1]))];
  const rows = [...new Set(ys.flatMap((t) => [t.i0, t.i1]))];
  for (const y of rows) {
    for (const x of cols) {
      for (let c = 0; c < ch; c++) out[(y * w + x) * ch + c] = blurAt(src, w, h, ch, mask, x, y, c, true);
    }
  }
  return out;
}

function blurSeparable(src: Float32Array, w: number, h: number, ch: number, mask: GaussianMask): Float32Array {
  // The 2D mask is the outer product of its middle row and middle column (each renormalised).
  const hx = (mask.nx - 1) / 2;
  const hy = (mask.ny - 1) / 2;
  const row = Array.from({ length: mask.nx }, (_, i) => mask.weights[hy * mask.nx + i]!);
  const col = Array.from({ length: mask.ny }, (_, i) => mask.weights[i * mask.nx + hx]!);
  const rs = row.reduce((a, b) => a + b, 0);
  const cs = col.reduce((a, b) => a + b, 0);
  const tmp = new Float64Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        for (let k = -hx; k <= hx; k++) {
          const xx = x + k < 0 ? 0 : x + k > w - 1 ? w - 1 : x + k;
          s += row[k + hx]! * src[(y * w + xx) * ch + c]!;
        }
        tmp[(y * w + x) * ch + c] = s / rs;
      }
    }
  }
  const out = new Float32Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let s = 0;
        for (let k = -hy; k <= hy; k++) {
          const yy = y + k < 0 ? 0 : y + k > h - 1 ? h - 1 : y + k;
          s += col[k + hy]! * tmp[(yy * w + x) * ch + c]!;
        }
        out[(y * w + x) * ch + c] = s / cs;
      }
    }
  }
  return out;
}
