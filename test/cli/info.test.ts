/** `h2g info`: text and JSON for people and programs, one readable error line otherwise. */
import { runCli } from '../helpers/cli';
import { BROKEN_SVS, CMU_SMALL, NO_MPP_TIFF, PYRAMID_40X } from '../helpers/paths';

test('--json prints one object with the documented keys', async () => {
  const r = await runCli(['info', PYRAMID_40X, '--json']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  const info = JSON.parse(r.stdout);
  expect(info).toMatchObject({ vendor: 'generic-tiff', width: 4440, height: 5934, objectivePower: null, bounds: null });
  expect(info.levels[0]).toEqual({ width: 4440, height: 5934, downsample: 1 });
  expect(info.levels.length).toBeGreaterThanOrEqual(4);
  expect(info.mpp.x).toBeCloseTo(0.25, 6);
  expect(info.mpp.source).toBe('tiff.resolution');
});

test('text output names vendor, size, pixel size and its source, objective and levels', async () => {
  const r = await runCli(['info', CMU_SMALL]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/vendor: +aperio/);
  expect(r.stdout).toMatch(/size: +2220 x 2967 px/);
  expect(r.stdout).toMatch(/pixel size: +0\.4990 x 0\.4990 um\/px \(from openslide\.mpp\)/);
  expect(r.stdout).toMatch(/objective: +20x/);
  expect(r.stdout).toMatch(/ {2}0: 2220 x 2967 \(downsample 1\)/);
});

test('a slide without pixel size says so and points to --mpp', async () => {
  const r = await runCli(['info', NO_MPP_TIFF, '--json']);
  expect(JSON.parse(r.stdout).mpp).toBeNull();
  const text = await runCli(['info', NO_MPP_TIFF]);
  expect(text.stdout).toMatch(/pixel size: unknown \(give --mpp/);
});

test.each([
  ['missing', '/nope/slide.svs', /^h2g: error: slide not found: \/nope\/slide\.svs\n$/],
  ['corrupt', BROKEN_SVS, /^h2g: error: OpenSlide does not recognise .*broken\.svs.*\n$/],
])('%s slide: exit 1 and exactly one line', async (_n, slide, message) => {
  const r = await runCli(['info', slide]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
});
