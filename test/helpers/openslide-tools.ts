/**
 * Independent ground truth: pixels as OpenSlide's Python binding (Debian's python3-openslide) reads them.
 * openslide-write-png is not used: it reads one row at a time at y = floor(y / ds) * ds, which shifts
 * rows on levels whose downsample is not an integer (4.0007 in libvips pyramids).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const SYSTEM_PYTHON = process.env.H2G_TEST_PYTHON ?? '/usr/bin/python3';

/** RGB of a region as python3-openslide gives it, transparent pixels mapped to white. */
export function referenceRegion(slide: string, x: number, y: number, level: number, w: number, h: number): Buffer {
  const rgba = execFileSync(
    SYSTEM_PYTHON,
    [path.join(__dirname, 'openslide_region.py'), slide, String(x), String(y), String(level), String(w), String(h)],
    { maxBuffer: w * h * 4 + 1024 },
  );
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const a = rgba[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = a === 0 ? 255 : rgba[i * 4 + c]!;
  }
  return rgb;
}
