/**
 * The direct tile path (src/native/tiff_tiles.h) must give exactly OpenSlide's bytes, be taken where
 * it claims to be, and never where it cannot be; and `readRegionsInto` must equal `readRegion / 255`.
 */
import { copyFileSync, mkdtempSync, openSync, writeSync, closeSync, fstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenSlide } from '../../src/slide/openslide';
import { SlideError } from '../../src/slide/errors';
import type { RegionInto } from '../../src/slide/source';
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

  test('200 random whole-pixel regions of an Aperio slide equal OpenSlide, many from cached tiles', async () => {
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
    // The slide has 10 x 13 tiles: most of the regions' tiles were decoded for an earlier region.
    expect(slide.tileCacheHits).toBeGreaterThan(200);
    expect(plain.tileCacheHits).toBe(0);
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
    let errorRow = -1;
    for (let i = 0; i < 17 * 23 && !firstError; i++) {
      const req = { level: 0, x: (i % 17) * 256, y: Math.floor(i / 17) * 256, width: 256, height: 256 };
      const [a, b] = await Promise.all([settle(direct.readRegion(req)), settle(plain.readRegion(req))]);
      if (a !== b) differing++;
      if (b.startsWith('error')) {
        firstError = `${a} / ${b}`;
        errorRow = Math.floor(i / 17);
      }
    }
    expect(firstError).toBe('error CORRUPT / error CORRUPT');
    expect(differing).toBe(0);
    // A batch read over the same tiles, a row per call, fails the same way at the same row.
    const batch = await OpenSlide.open(copy);
    const stride = 256 * 256 * 3;
    const target = new Float32Array(17 * stride);
    let failedRow = -1;
    let failure = '';
    for (let row = 0; row < 23 && failedRow < 0; row++) {
      const reads = Array.from({ length: 17 }, (_, col) => ({
        request: { level: 0, x: col * 256, y: row * 256, width: 256, height: 256 },
        offset: col * stride,
      }));
      await batch.readRegionsInto(reads, target).catch((e: unknown) => {
        failedRow = row;
        failure = `${(e as SlideError).code}: ${(e as Error).message}`;
      });
    }
    expect(failedRow).toBe(errorRow);
    expect(failure).toMatch(/^CORRUPT: the slide's pixel data cannot be decoded/);
    await Promise.all([direct.close(), plain.close(), batch.close()]);
  });
});

/** A request's float image as `readRegion / 255` gives it (the rule `readRegionsInto` must follow). */
function floatsOf(bytes: Uint8Array): Buffer {
  return Buffer.from(Float32Array.from(bytes, (v) => v / 255).buffer);
}

describe('readRegionsInto', () => {
  test('writes exactly readRegion / 255 at each offset, on the direct path and through OpenSlide', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    const requests = [
      { level: 0, x: 512, y: 768, width: 256, height: 256 }, // a whole tile: direct
      { level: 2, x: 4000, y: 5000, width: 300, height: 300 }, // across the edge: OpenSlide, white outside
    ];
    const n = requests.map((r) => r.width * r.height * 3);
    const target = new Float32Array(7 + n[0]! + 5 + n[1]! + 3).fill(-1);
    const offsets = [7, 7 + n[0]! + 5];
    await slide.readRegionsInto(
      requests.map((request, i) => ({ request, offset: offsets[i]! })),
      target,
    );
    for (const [i, req] of requests.entries()) {
      const written = Buffer.from(target.buffer, offsets[i]! * 4, n[i]! * 4);
      expect(written.equals(floatsOf((await slide.readRegion(req)).data))).toBe(true);
    }
    const untouched = [...target.subarray(0, 7), ...target.subarray(7 + n[0]!, offsets[1]), ...target.subarray(-3)];
    expect(untouched).toEqual(new Array(15).fill(-1));
    expect(slide.directTileReads).toBe(2);
    await slide.close();
  });

  test('a batch of 64 split over concurrent calls equals the same regions read one by one', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    const stride = 256 * 256 * 3;
    const reads = Array.from({ length: 64 }, (_, i) => ({
      request: { level: 0, x: (i % 16) * 256, y: Math.floor(i / 16) * 512, width: 256, height: 256 },
      offset: i * stride,
    }));
    const batch = new Float32Array(64 * stride);
    await Promise.all([0, 16, 32, 48].map((from) => slide.readRegionsInto(reads.slice(from, from + 16), batch)));
    let differing = 0;
    for (const [i, { request }] of reads.entries()) {
      const expected = floatsOf((await slide.readRegion(request)).data);
      if (!expected.equals(Buffer.from(batch.buffer, i * stride * 4, stride * 4))) differing++;
    }
    expect(differing).toBe(0);
    await slide.close();
  });

  test('hundreds of concurrent reads with a close in the middle: each is right or fails CLOSED', async () => {
    const reference = await OpenSlide.open(PYRAMID_40X, { directTiles: false });
    const req = { level: 0, x: 768, y: 1024, width: 256, height: 256 };
    const expected = Buffer.from((await reference.readRegion(req)).data);
    const expectedFloats = floatsOf(expected);
    await reference.close();
    const slide = await OpenSlide.open(PYRAMID_40X);
    const stride = 256 * 256 * 3;
    const batch = new Float32Array(300 * 2 * stride);
    const outcomes = Array.from({ length: 300 }, (_, i) => {
      const read =
        i % 2 === 0
          ? slide.readRegion(req).then((img) => (Buffer.from(img.data).equals(expected) ? 'right' : 'wrong'))
          : slide
              .readRegionsInto(
                [0, 1].map((k) => ({ request: req, offset: (2 * i + k) * stride })),
                batch,
              )
              .then(() => {
                const floats = Buffer.from(batch.buffer, 2 * i * stride * 4, 2 * stride * 4);
                return floats.equals(Buffer.concat([expectedFloats, expectedFloats])) ? 'right' : 'wrong';
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

  test('a bad target, offset, region or batch is refused, and the slide keeps serving', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const request = { level: 0, x: 0, y: 0, width: 16, height: 16 };
    const code = (reads: RegionInto[], target: Float32Array) =>
      slide.readRegionsInto(reads, target).then(
        () => 'ok',
        (e: unknown) => `${(e as SlideError).code}: ${(e as Error).message}`,
      );
    const one = (offset: number) => [{ request, offset }];
    expect(await code(one(0), new Uint8Array(768) as unknown as Float32Array)).toMatch(
      /^INVALID_ARGUMENT: target must be a Float32Array/,
    );
    expect(await code(one(1), new Float32Array(768))).toMatch(/^INVALID_ARGUMENT: region 0: target offset/);
    expect(await code(one(-1), new Float32Array(768))).toMatch(/^INVALID_ARGUMENT: region 0: target offset/);
    expect(await code(one(0.5), new Float32Array(768))).toMatch(/^INVALID_ARGUMENT: region 0: .*integers/);
    expect(await code([], new Float32Array(768))).toMatch(/^INVALID_ARGUMENT: packed must hold whole regions/);
    const second = [...one(0), { request: { ...request, width: 0 }, offset: 0 }];
    expect(await code(second, new Float32Array(768))).toMatch(/^INVALID_ARGUMENT: region 1: region size/);
    const badLevel = [{ request: { ...request, level: 9 }, offset: 0 }];
    expect(await code(badLevel, new Float32Array(768))).toMatch(/^INVALID_ARGUMENT: level 9 does not exist/);
    expect(await code(one(0), new Float32Array(768))).toBe('ok');
    expect((await slide.readRegion(request)).data.length).toBe(768);
    await slide.close();
  });
});
