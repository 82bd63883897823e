/**
 * The direct tile path (src/native/tiff_tiles.h) must give exactly OpenSlide's bytes, be taken where
 * it claims to be, and never where it cannot be; and `readRegionInto` must equal `readRegion / 255`.
 */
import { copyFileSync, mkdtempSync, openSync, writeSync, closeSync, fstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenSlide } from '../../src/slide/openslide';
import { SlideError } from '../../src/slide/errors';
import { CMU_SMALL, PYRAMID_40X, SHAPES_TIFF } from '../helpers/paths';

interface Case {
  name: string;
  file: string;
  level: number;
  tile: number;
  /** Whether the direct path serves this level's interior tiles. */
  direct: boolean;
}

const cases: Case[] = [
  { name: 'Aperio SVS (RGB JPEG, 240 px tiles), level 0', file: CMU_SMALL, level: 0, tile: 240, direct: true },
  { name: 'libvips generic TIFF (YCbCr JPEG), level 0', file: PYRAMID_40X, level: 0, tile: 256, direct: true },
  {
    name: 'libvips generic TIFF, level 1 (downsample exactly 2)',
    file: PYRAMID_40X,
    level: 1,
    tile: 256,
    direct: true,
  },
  // Deflate, not JPEG: left to OpenSlide.
  { name: 'deflate-compressed shapes slide, level 2', file: SHAPES_TIFF, level: 2, tile: 256, direct: false },
];

describe('direct tiles equal OpenSlide on every tile of real slides', () => {
  test.each(cases)('$name', async ({ file, level, tile, direct: served }) => {
    const direct = await OpenSlide.open(file);
    const plain = await OpenSlide.open(file, { directTiles: false });
    const l = direct.levels[level]!;
    const cols = Math.ceil(l.width / tile);
    const rows = Math.ceil(l.height / tile);
    let differing = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const req = { level, x: c * tile * l.downsample, y: r * tile * l.downsample, width: tile, height: tile };
        const [a, b] = await Promise.all([direct.readRegion(req), plain.readRegion(req)]);
        if (!Buffer.from(a.data).equals(Buffer.from(b.data))) differing++;
      }
    }
    expect(differing).toBe(0);
    // Every whole tile inside the level was served directly; edge tiles (partly outside) were not.
    const interior = Math.floor(l.width / tile) * Math.floor(l.height / tile);
    expect(direct.directTileReads).toBe(served ? interior : 0);
    expect(plain.directTileReads).toBe(0);
    await Promise.all([direct.close(), plain.close()]);
  });

  test('regions at whole pixels inside a level are assembled from tiles; fractional or edge ones are not', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    const plain = await OpenSlide.open(PYRAMID_40X, { directTiles: false });
    const level2 = slide.levels[2]!;
    expect(level2.downsample).not.toBe(4); // 5934 / 4 is not an integer: OpenSlide says 4.0007
    const served = [
      { level: 0, x: 257, y: 256, width: 256, height: 256 }, // unaligned
      { level: 0, x: 256, y: 256, width: 255, height: 256 }, // part of a tile
      { level: 0, x: 256, y: 256, width: 512, height: 256 }, // two tiles
      { level: 0, x: 1001, y: 1337, width: 514, height: 514 }, // what a 20x slide's patch reads
      { level: 1, x: 2, y: 6, width: 700, height: 3 }, // level 1: downsample exactly 2
    ];
    const notServed = [
      { level: 2, x: Math.round(256 * level2.downsample), y: 0, width: 256, height: 256 }, // fractional
      { level: 0, x: 4300, y: 100, width: 256, height: 256 }, // across the right edge
      { level: 0, x: -5, y: 100, width: 64, height: 64 }, // before the left edge
    ];
    for (const req of [...served, ...notServed]) {
      const [a, b] = await Promise.all([slide.readRegion(req), plain.readRegion(req)]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    }
    expect(slide.directTileReads).toBe(served.length);
    await Promise.all([slide.close(), plain.close()]);
    expect(slide.directTileReads).toBe(0);
  });

  test('200 random whole-pixel regions of an Aperio slide equal OpenSlide', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const plain = await OpenSlide.open(CMU_SMALL, { directTiles: false });
    let s = 12345;
    const rand = (n: number) => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s % n;
    };
    let differing = 0;
    for (let i = 0; i < 200; i++) {
      const width = 1 + rand(600);
      const height = 1 + rand(600);
      const req = { level: 0, x: rand(2220 - width + 1), y: rand(2967 - height + 1), width, height };
      const [a, b] = await Promise.all([slide.readRegion(req), plain.readRegion(req)]);
      if (!Buffer.from(a.data).equals(Buffer.from(b.data))) differing++;
    }
    expect(differing).toBe(0);
    expect(slide.directTileReads).toBe(200);
    await Promise.all([slide.close(), plain.close()]);
  });

  test('a tile whose JPEG data is damaged fails as OpenSlide fails it, not with grey pixels', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'h2g-damaged-'));
    const copy = path.join(dir, 'damaged.tif');
    copyFileSync(PYRAMID_40X, copy);
    // Overwrite the middle of the file (level 0's tile data) with a repeating non-JPEG pattern.
    const fd = openSync(copy, 'r+');
    const size = fstatSync(fd).size;
    const junk = Buffer.alloc(1 << 20, 0x5a);
    writeSync(fd, junk, 0, junk.length, Math.floor(size / 4));
    closeSync(fd);
    const direct = await OpenSlide.open(copy);
    const plain = await OpenSlide.open(copy, { directTiles: false });
    const settle = (p: Promise<{ data: Uint8Array }>) =>
      p.then(
        (img) => Buffer.from(img.data).toString('base64'),
        (e: unknown) => `error ${(e as SlideError).code}`,
      );
    // Tile by tile until OpenSlide first fails (its error state is sticky: later reads all fail).
    let differing = 0;
    let firstError = '';
    for (let i = 0; i < 17 * 23 && !firstError; i++) {
      const req = { level: 0, x: (i % 17) * 256, y: Math.floor(i / 17) * 256, width: 256, height: 256 };
      const [a, b] = await Promise.all([settle(direct.readRegion(req)), settle(plain.readRegion(req))]);
      if (a !== b) differing++;
      if (b.startsWith('error')) firstError = `${a} / ${b}`;
    }
    expect(firstError).toBe('error CORRUPT / error CORRUPT');
    expect(differing).toBe(0);
    await Promise.all([direct.close(), plain.close()]);
  });
});

describe('readRegionInto', () => {
  test('writes exactly readRegion / 255 at the offset, on the direct path and through OpenSlide', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    const requests = [
      { level: 0, x: 512, y: 768, width: 256, height: 256 }, // a whole tile: direct
      { level: 2, x: 4000, y: 5000, width: 300, height: 300 }, // across the edge: OpenSlide, white outside
    ];
    for (const req of requests) {
      const n = req.width * req.height * 3;
      const target = new Float32Array(n + 10).fill(-1);
      await slide.readRegionInto(req, target, 7);
      const bytes = (await slide.readRegion(req)).data;
      let mismatches = 0;
      for (let i = 0; i < n; i++) if (target[7 + i] !== Math.fround(bytes[i]! / 255)) mismatches++;
      expect(mismatches).toBe(0);
      expect([...target.subarray(0, 7), ...target.subarray(7 + n)]).toEqual(new Array(10).fill(-1));
    }
    expect(slide.directTileReads).toBe(2);
    await slide.close();
  });

  test('64 concurrent reads into one batch tensor equal the same reads one by one', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    const stride = 256 * 256 * 3;
    const reqs = Array.from({ length: 64 }, (_, i) => ({
      level: 0,
      x: (i % 16) * 256,
      y: Math.floor(i / 16) * 512,
      width: 256,
      height: 256,
    }));
    const batch = new Float32Array(64 * stride);
    await Promise.all(reqs.map((req, i) => slide.readRegionInto(req, batch, i * stride)));
    const one = new Float32Array(stride);
    let differing = 0;
    for (const [i, req] of reqs.entries()) {
      await slide.readRegionInto(req, one, 0);
      if (!Buffer.from(one.buffer).equals(Buffer.from(batch.buffer, i * stride * 4, stride * 4))) differing++;
    }
    expect(differing).toBe(0);
    await slide.close();
  });

  test('hundreds of concurrent direct reads with a close in the middle: each is right or fails CLOSED', async () => {
    const reference = await OpenSlide.open(PYRAMID_40X, { directTiles: false });
    const req = { level: 0, x: 768, y: 1024, width: 256, height: 256 };
    const expected = Buffer.from((await reference.readRegion(req)).data);
    const expectedFloats = Buffer.from(Float32Array.from(expected, (v) => v / 255).buffer);
    await reference.close();
    const slide = await OpenSlide.open(PYRAMID_40X);
    const stride = 256 * 256 * 3;
    const batch = new Float32Array(300 * stride);
    const outcomes = Array.from({ length: 300 }, (_, i) => {
      const read =
        i % 2 === 0
          ? slide.readRegion(req).then((img) => (Buffer.from(img.data).equals(expected) ? 'right' : 'wrong'))
          : slide.readRegionInto(req, batch, i * stride).then(() => {
              const floats = Buffer.from(batch.buffer, i * stride * 4, stride * 4);
              return floats.equals(expectedFloats) ? 'right' : 'wrong';
            });
      if (i === 150) void slide.close();
      return read.catch((e: unknown) => `error ${(e as SlideError).code}`);
    });
    const counts = (await Promise.all(outcomes)).reduce<Record<string, number>>((acc, o) => {
      acc[o] = (acc[o] ?? 0) + 1;
      return acc;
    }, {});
    // Reads asked before the close finish (and are right); those asked after fail CLOSED.
    expect(counts).toEqual({ right: 151, 'error CLOSED': 149 });
    expect(slide.closed).toBe(true);
  });

  test('a target that is not a Float32Array, or too short for the region, is refused', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const req = { level: 0, x: 0, y: 0, width: 16, height: 16 };
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => `${(e as SlideError).code}: ${(e as Error).message}`,
      );
    expect(await code(slide.readRegionInto(req, new Uint8Array(768) as unknown as Float32Array, 0))).toMatch(
      /^INVALID_ARGUMENT: target must be a Float32Array/,
    );
    expect(await code(slide.readRegionInto(req, new Float32Array(768), 1))).toMatch(/^INVALID_ARGUMENT: target offset/);
    expect(await code(slide.readRegionInto(req, new Float32Array(768), -1))).toMatch(/^INVALID_ARGUMENT/);
    expect(await code(slide.readRegionInto(req, new Float32Array(768), 0))).toBe('ok');
    // The slide still serves reads after the refusals.
    expect((await slide.readRegion(req)).data.length).toBe(768);
    await slide.close();
  });
});
