/** The evaluation's parts against hand-computed values: rasteriser, GeoJSON reading, metrics, dataset file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnnotationError, parsePolygons, type Ring } from '../../src/eval/annotations';
import { DatasetError, readDataset } from '../../src/eval/dataset';
import { overlap, summarise } from '../../src/eval/metrics';
import { rasterise } from '../../src/eval/raster';
import { CMU_SMALL } from '../helpers/paths';

const square = (x0: number, y0: number, x1: number, y1: number): Ring => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];
const count = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);

describe('rasterise', () => {
  const grid = { width: 20, height: 20, sx: 1, sy: 1 };

  test('a square on cell edges covers exactly its cells', () => {
    const m = rasterise([[square(2, 3, 12, 8)]], grid);
    expect(count(m)).toBe(50);
    expect(m[3 * 20 + 2]).toBe(1);
    expect(m[3 * 20 + 12]).toBe(0); // x = 12.5 is outside [2, 12)
    expect(m[8 * 20 + 5]).toBe(0);
  });

  test('an inner ring is a hole; overlapping polygons are a union', () => {
    const ring = rasterise([[square(0, 0, 10, 10), square(3, 3, 7, 7)]], grid);
    expect(count(ring)).toBe(100 - 16);
    expect(ring[5 * 20 + 5]).toBe(0);
    const union = rasterise([[square(0, 0, 10, 10)], [square(5, 5, 15, 15)]], grid);
    expect(count(union)).toBe(100 + 100 - 25);
  });

  test('pixel centres decide: a triangle and a scaled grid', () => {
    // Right triangle (0,0) (10,0) (0,10): centres (i+.5, j+.5) with i + j + 1 < 10 -> 45 cells.
    expect(
      count(
        rasterise(
          [
            [
              [
                [0, 0],
                [10, 0],
                [0, 10],
              ],
            ],
          ],
          grid,
        ),
      ),
    ).toBe(45);
    // The same square at 4 level-0 px per cell: cells 0..2 (centres 2, 6, 10 < 12).
    expect(count(rasterise([[square(0, 0, 12, 12)]], { width: 20, height: 20, sx: 4, sy: 4 }))).toBe(9);
  });

  test('parts outside the grid are clipped, not wrapped', () => {
    const m = rasterise([[square(-5, -5, 3, 3)], [square(18, 18, 40, 40)]], grid);
    expect(count(m)).toBe(9 + 4);
  });
});

describe('parsePolygons', () => {
  const tumour = (geometry: unknown, name = 'Tumor') => ({
    type: 'Feature',
    geometry,
    properties: { classification: { name } },
  });
  const poly = { type: 'Polygon', coordinates: [square(0, 0, 4, 4)] };

  test('keeps Tumor features of every container QuPath writes; ignores other classes, points and lines', () => {
    const fc = {
      type: 'FeatureCollection',
      features: [
        tumour(poly),
        tumour(poly, 'Stroma'),
        tumour({ type: 'MultiPolygon', coordinates: [[square(0, 0, 1, 1)], [square(2, 2, 3, 3)]] }),
        tumour({ type: 'Point', coordinates: [1, 1] }),
        { type: 'Feature', geometry: poly, properties: {} },
      ],
    };
    expect(parsePolygons(fc, 'f')).toHaveLength(3);
    expect(parsePolygons([tumour(poly)], 'f')).toHaveLength(1);
    expect(parsePolygons(tumour(poly), 'f')).toHaveLength(1);
    expect(parsePolygons(fc, 'f', 'Stroma')).toHaveLength(1);
  });

  test.each([
    [{ type: 'Polygon' }, /expected a GeoJSON FeatureCollection/],
    [
      { type: 'Feature', geometry: { type: 'Polygon' }, properties: { classification: { name: 'Tumor' } } },
      /malformed Polygon/,
    ],
    [{ type: 'FeatureCollection' }, /needs a "features" list/],
    [
      {
        type: 'Feature',
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              ['a', 1],
              [1, 1],
            ],
          ],
        },
        properties: { classification: { name: 'Tumor' } },
      },
      /not \[x, y\] numbers/,
    ],
  ])('malformed input is an AnnotationError that says what is wrong', (doc, message) => {
    expect(() => parsePolygons(doc, 'f')).toThrow(AnnotationError);
    expect(() => parsePolygons(doc, 'f')).toThrow(message);
  });
});

describe('metrics', () => {
  test('Dice, recall and precision of two masks; empty cases are defined as documented', () => {
    const a = Uint8Array.from([1, 1, 1, 0, 0, 0]);
    const b = Uint8Array.from([0, 1, 1, 1, 1, 0]);
    expect(overlap(a, b)).toEqual({
      truthPixels: 4,
      predictedPixels: 3,
      truePositives: 2,
      dice: 4 / 7,
      recall: 0.5,
      precision: 2 / 3,
    });
    const none = new Uint8Array(6);
    expect(overlap(none, none)).toMatchObject({ dice: 1, recall: null, precision: null });
    expect(overlap(a, none)).toMatchObject({ dice: 0, recall: null, precision: 0 });
    expect(overlap(none, b)).toMatchObject({ dice: 0, recall: 0, precision: null });
  });

  test('mean and population standard deviation skip undefined values', () => {
    expect(summarise([0.4, 1, null])).toEqual({ mean: 0.7, std: expect.closeTo(0.3, 12), n: 2 });
    expect(summarise([null])).toEqual({ mean: null, std: null, n: 0 });
  });
});

describe('readDataset', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'h2g-dataset-'));
  writeFileSync(path.join(dir, 'a.geojson'), '{"type":"FeatureCollection","features":[]}');
  const slide = { id: 'S01', slide: CMU_SMALL, annotations: 'a.geojson' };
  const write = (obj: unknown) => {
    const f = path.join(dir, `d${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify(obj));
    return f;
  };
  const ds = (over: object = {}, slideOver: object = {}) => ({
    schemaVersion: 1,
    name: 'c',
    slides: [{ ...slide, ...slideOver }],
    ...over,
  });

  test('resolves relative paths against the file and keeps the optional fields', async () => {
    const d = await readDataset(write(ds({}, { mpp: 0.25, group: 'g2', split: 'test' })));
    expect(d.slides[0]).toEqual({
      ...slide,
      annotations: path.join(dir, 'a.geojson'),
      mpp: 0.25,
      group: 'g2',
      split: 'test',
    });
  });

  test.each([
    ['an unknown key', ds({ slidez: [] }), /Unrecognized key.*slidez/],
    ['an unknown slide key', ds({}, { grade: 2 }), /slides\.0.*grade/],
    [
      'a missing annotation file',
      ds({}, { annotations: 'nope.geojson' }),
      /slides\.0 \(S01\)\.annotations: no such file: .*nope\.geojson/,
    ],
    ['a bad split', ds({}, { split: 'validation' }), /slides\.0\.split/],
    ['a bad id', ds({}, { id: 'a/b' }), /slides\.0\.id/],
    ['a wrong schema version', ds({ schemaVersion: 2 }), /schemaVersion/],
    ['no slides', ds({ slides: [] }), /slides/],
    ['a repeated id', ds({ slides: [slide, slide] }), /'S01' appears twice/],
  ])('refuses %s', async (_what, obj, message) => {
    await expect(readDataset(write(obj))).rejects.toThrow(DatasetError);
    await expect(readDataset(write(obj))).rejects.toThrow(message);
  });

  test('not JSON, or no file: a DatasetError naming the file', async () => {
    const f = path.join(dir, 'broken.json');
    writeFileSync(f, '{');
    await expect(readDataset(f)).rejects.toThrow(/broken\.json is not valid JSON/);
    await expect(readDataset(path.join(dir, 'none.json'))).rejects.toThrow(/no such dataset file/);
  });
});
