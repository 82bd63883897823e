#!/usr/bin/env node
/**
 * Writes the small pyramidal slide `h2g demo` segments, with the libvips CLI (`vips`):
 *
 *   node scripts/make-demo-slide.js --out FILE.tif [--source SLIDE | --synthetic] [--seed N]
 *
 * Source: the OpenSlide sample ../shared/data/CMU-1-Small-Region.svs when this checkout has it (real
 * H&E, 2220 x 2967 px, 0.499 um/px); otherwise (a fresh clone) a synthetic H&E-like image drawn here
 * with pngjs: pink eosin tissue islands with purple nuclei, denser in a few clusters, on white glass,
 * 3072 x 2304 px at 0.5 um/px. Either way the result is a tiled (256 px, JPEG) pyramidal generic TIFF
 * with its pixel size in the TIFF resolution tags, which OpenSlide reads as `generic-tiff`.
 * The file is written under a temporary name and renamed, so an interrupted run leaves no half slide.
 * Prints one JSON line: { file, source, width, height, mppX }. Plain CommonJS so it runs from a fresh
 * clone without a build.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { PNG } = require('pngjs');

const ROOT = path.resolve(__dirname, '..');
const SHARED_SAMPLE = path.resolve(ROOT, '..', 'shared', 'data', 'CMU-1-Small-Region.svs');
const SYNTH = { width: 3072, height: 2304, mpp: 0.5 };

function vips(args) {
  try {
    return execFileSync('vips', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    if (err.code === 'ENOENT')
      throw new Error('the libvips CLI `vips` is not installed (apt-get install libvips-tools)');
    throw new Error(`vips ${args[0]} failed: ${String(err.stderr || err.message).trim()}`);
  }
}

/** Deterministic PRNG (mulberry32), so the same seed always draws the same slide. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Smooth noise in -1..1: a coarse random grid, bilinearly interpolated. */
function valueNoise(random, width, height, cell) {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => random() * 2 - 1);
  return (x, y) => {
    const gx = x / cell;
    const gy = y / cell;
    const x0 = Math.floor(gx);
    const y0 = Math.floor(gy);
    const fx = gx - x0;
    const fy = gy - y0;
    const at = (i, j) => grid[j * gw + i];
    const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
    const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
    return top * (1 - fy) + bottom * fy;
  };
}

/** Tissue islands: ellipses with wobbly outlines. Returns inside(x, y). */
function islands(random, width, height) {
  const blobs = Array.from({ length: 4 }, (_, i) => ({
    cx: width * (0.22 + 0.56 * (i % 2)) + (random() - 0.5) * width * 0.1,
    cy: height * (0.27 + 0.46 * (i >> 1)) + (random() - 0.5) * height * 0.1,
    rx: width * (0.16 + 0.06 * random()),
    ry: height * (0.17 + 0.07 * random()),
    p1: random() * 6.28,
    p2: random() * 6.28,
  }));
  return (x, y) =>
    blobs.some((b) => {
      const dx = (x - b.cx) / b.rx;
      const dy = (y - b.cy) / b.ry;
      const th = Math.atan2(dy, dx);
      const r = 1 + 0.12 * Math.sin(3 * th + b.p1) + 0.07 * Math.sin(7 * th + b.p2);
      return dx * dx + dy * dy < r * r;
    });
}

/** An RGB PNG that looks roughly like H&E at 20x. */
function drawSyntheticPng(file, seed) {
  const { width, height } = SYNTH;
  const random = rng(seed);
  const inside = islands(random, width, height);
  const stain = valueNoise(random, width, height, 96);
  const density = valueNoise(random, width, height, 400);
  // pngjs always holds RGBA in memory; colorType 2 at write time drops the alpha channel.
  const png = new PNG({ width, height });
  const px = png.data;
  const tissue = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const grain = (random() - 0.5) * 14;
      let rgb = [244 + grain / 3, 244 + grain / 3, 246 + grain / 3]; // glass
      if (inside(x, y)) {
        tissue[i] = 1;
        const s = stain(x, y) * 22;
        rgb = [228 + s / 2 + grain, 150 + s + grain, 196 + s / 2 + grain]; // eosin pink
      }
      px[i * 4] = rgb[0];
      px[i * 4 + 1] = rgb[1];
      px[i * 4 + 2] = rgb[2];
      px[i * 4 + 3] = 255;
    }
  }
  // Nuclei: haematoxylin-purple dots, crowded where `density` is high (tumour-like clusters).
  const nuclei = Math.round((width * height) / 220);
  for (let n = 0; n < nuclei; n++) {
    const cx = Math.floor(random() * width);
    const cy = Math.floor(random() * height);
    if (!tissue[cy * width + cx] || random() > 0.25 + 0.75 * Math.max(0, density(cx, cy))) continue;
    const r = 2.5 + random() * 3.5;
    const dark = random() * 40;
    for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(height - 1, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(width - 1, cx + r); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        const i = (y * width + x) * 4;
        px[i] = 95 - dark;
        px[i + 1] = 60 - dark / 2;
        px[i + 2] = 150 - dark / 2;
      }
    }
  }
  fs.writeFileSync(file, PNG.sync.write(png, { colorType: 2 }));
}

const TIFF_OPTIONS = ['--tile', '--tile-width', '256', '--tile-height', '256', '--pyramid', '--compression', 'jpeg'];

function makeDemoSlide({ out, source, synthetic = false, seed = 7 }) {
  const target = path.resolve(out);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.partial-${process.pid}`;
  const png = `${tmp}.png`;
  const flat = `${tmp}.v`;
  const from = synthetic ? null : (source ?? (fs.existsSync(SHARED_SAMPLE) ? SHARED_SAMPLE : null));
  try {
    let input;
    let pxPerMm;
    if (from) {
      // OpenSlide gives RGBA; JPEG-in-TIFF wants RGB on white. libvips reads the slide's mpp as xres.
      vips(['flatten', from, flat, '--background', '255']);
      input = flat;
      pxPerMm = Number(execFileSync('vipsheader', ['-f', 'xres', from]).toString().trim());
      if (!(pxPerMm > 10)) pxPerMm = 1000 / SYNTH.mpp; // no usable calibration: assume 20x
    } else {
      drawSyntheticPng(png, seed);
      input = png;
      pxPerMm = 1000 / SYNTH.mpp;
    }
    const res = pxPerMm.toFixed(3);
    vips([
      'tiffsave',
      input,
      `${tmp}.tif`,
      ...TIFF_OPTIONS,
      '--Q',
      '85',
      '--xres',
      res,
      '--yres',
      res,
      '--resunit',
      'cm',
    ]);
    fs.renameSync(`${tmp}.tif`, target);
    const size = (f) => Number(execFileSync('vipsheader', ['-f', f, target]).toString().trim());
    return {
      file: target,
      source: from ?? 'synthetic',
      width: size('width'),
      height: size('height'),
      mppX: 1000 / pxPerMm,
    };
  } finally {
    for (const f of [png, flat, `${tmp}.tif`]) fs.rmSync(f, { force: true });
  }
}

function main(argv) {
  const args = { out: null, source: undefined, synthetic: false, seed: 7 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') args.out = argv[++i];
    else if (a === '--source') args.source = argv[++i];
    else if (a === '--synthetic') args.synthetic = true;
    else if (a === '--seed') args.seed = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.out) throw new Error('usage: make-demo-slide.js --out FILE.tif [--source SLIDE | --synthetic] [--seed N]');
  process.stdout.write(`${JSON.stringify(makeDemoSlide(args))}\n`);
}

module.exports = { makeDemoSlide, SHARED_SAMPLE };

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`make-demo-slide: ${err.message}\n`);
    process.exit(1);
  }
}
