/**
 * Slide geometry from the file is not trusted: a TIFF with a tile or image size edited in a few
 * bytes is refused at open (CORRUPT, naming the bound), before OpenSlide or the direct tile path
 * allocate by it. Before this check, OpenSlide's tile cache asked GLib for 4 TiB and GLib aborted the
 * whole process (SIGTRAP); the direct path threw std::bad_alloc.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenSlide } from '../../src/slide/openslide';
import { DEFAULT_LIMITS } from '../../src/pipeline/limits';
import { runCli } from '../helpers/cli';
import { MODELS, PYRAMID_40X } from '../helpers/paths';
import { TAG, setTag } from '../helpers/tiff-tags';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-geometry-'));

/** A copy of the 40x pyramid with tags of one directory set to the given values. */
function edited(name: string, dir: number, tags: Record<number, number>): string {
  const b = readFileSync(PYRAMID_40X);
  for (const [tag, value] of Object.entries(tags)) setTag(b, dir, Number(tag), value);
  const file = path.join(tmp, name);
  writeFileSync(file, b);
  return file;
}

// Directory 2 is the 1110 x 1483 level the pipeline reads for tissue; directory 5 the one-tile top.
const hugeTiles = edited('huge-tiles.tif', 2, { [TAG.TileWidth]: 1 << 20, [TAG.TileLength]: 1 << 20 });
const wideLevel = edited('wide-level.tif', 5, { [TAG.ImageWidth]: 3_000_000 });

test('a tile side beyond maxTileSide is refused at open, naming the directory and the bound', async () => {
  const err = await OpenSlide.open(hugeTiles).catch((e: Error & { code?: string }) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as { code?: string }).code).toBe('CORRUPT');
  expect((err as Error).message).toContain(
    `TIFF directory 2: tile width 1048576 is outside [1, ${DEFAULT_LIMITS.maxTileSide}]`,
  );
});

test('a level side beyond maxImageSide is refused at open', async () => {
  const err = await OpenSlide.open(wideLevel).catch((e: Error) => e);
  expect((err as { code?: string }).code).toBe('CORRUPT');
  expect((err as Error).message).toContain('TIFF directory 5: image width 3000000 is outside [1, 1048576]');
});

test('the levels OpenSlide reports are checked too (count and sides, with lowered bounds)', async () => {
  const levels = await OpenSlide.open(PYRAMID_40X, {
    limits: { ...DEFAULT_LIMITS, maxLevels: 3 },
  }).catch((e: Error) => e);
  expect((levels as Error).message).toContain('level count 6 is outside [1, 3]');
  const side = await OpenSlide.open(PYRAMID_40X, { limits: { ...DEFAULT_LIMITS, maxImageSide: 5000 } }).catch(
    (e: Error) => e,
  );
  expect((side as Error).message).toContain('image height 5934 is outside [1, 5000]');
  const intact = await OpenSlide.open(PYRAMID_40X);
  expect(intact.levels).toHaveLength(6);
  await intact.close();
});

test.each([
  ['through OpenSlide', { H2G_TIFF_TILES: '0' }],
  ['through the direct tile path', {}],
])('h2g segment and info exit 1 with the reason instead of dying (%s)', async (_name, env) => {
  const out = path.join(tmp, 'out.geojson');
  const r = await runCli(['segment', hugeTiles, '--models', MODELS.tiny, '-o', out], env);
  expect(r.stderr).toContain('tile width 1048576 is outside');
  expect(r.code).toBe(1);
  const info = await runCli(['info', wideLevel]);
  expect(info.code).toBe(1);
  expect(info.stderr).toMatch(/^h2g: error: the geometry of .* image width 3000000 is outside/);
});

test('an untouched copy still opens (the check refuses only what is out of bounds)', async () => {
  const copy = path.join(tmp, 'copy.tif');
  copyFileSync(PYRAMID_40X, copy);
  const slide = await OpenSlide.open(copy);
  expect(slide.levels[2]).toEqual({ width: 1110, height: 1483, downsample: expect.any(Number) });
  await slide.close();
});
