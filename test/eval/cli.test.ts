/** `h2g evaluate` end to end: real slides (for their size), GeoJSON files, table, CSV and JSON. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { CMU_SMALL } from '../helpers/paths';

// CMU-1-Small-Region is 2220 x 2967: on the 1024 grid a cell is 2220/1024 x 2967/1024 level-0 px.
const SX = 2220 / 1024;
const SY = 2967 / 1024;
/** A rectangle of grid cells [c0, c1) x [r0, r1) in level-0 pixels, as a Tumor feature. */
const cells = (c0: number, r0: number, c1: number, r1: number, name = 'Tumor') => ({
  type: 'Feature',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [c0 * SX, r0 * SY],
        [c1 * SX, r0 * SY],
        [c1 * SX, r1 * SY],
        [c0 * SX, r1 * SY],
        [c0 * SX, r0 * SY],
      ],
    ],
  },
  properties: { objectType: 'annotation', classification: { name } },
});
const collection = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

const dir = mkdtempSync(path.join(os.tmpdir(), 'h2g-evaluate-'));
const file = (name: string, obj: unknown) => {
  const f = path.join(dir, name);
  writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return f;
};
// Slide A: truth 200 x 200 cells, prediction 300 x 200 overlapping 100 x 200: Dice 0.4, recall 0.5, precision 1/3.
// Slide B: nothing true, nothing predicted (a Stroma annotation must be ignored): Dice 1, the others undefined.
file('A.geojson', collection(cells(100, 200, 300, 400)));
file('B.geojson', collection(cells(0, 0, 50, 50, 'Stroma')));
const predictions = path.join(dir, 'pred');
mkdirSync(predictions);
file('pred/A.geojson', collection(cells(200, 200, 500, 400)));
file('pred/B.geojson', collection());
mkdirSync(path.join(dir, 'partial'));
file('partial/A.geojson', collection());
const dataset = file('dataset.json', {
  schemaVersion: 1,
  name: 'eval-test',
  slides: [
    { id: 'A', slide: CMU_SMALL, annotations: 'A.geojson', split: 'test' },
    { id: 'B', slide: CMU_SMALL, annotations: 'B.geojson', split: 'val' },
  ],
});

test('--dataset: per-slide figures, mean +- std, and the same numbers in CSV and JSON', async () => {
  const csv = path.join(dir, 'out.csv');
  const r = await runCli(['evaluate', '--dataset', dataset, '--predictions', predictions, '--csv', csv, '--json', '-']);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.size).toBe(1024);
  const [a, b] = report.slides;
  expect(a).toMatchObject({
    id: 'A',
    truthPixels: 40000,
    predictedPixels: 60000,
    truePositives: 20000,
    dice: 0.4,
    recall: 0.5,
  });
  expect(a.precision).toBeCloseTo(1 / 3, 12);
  expect(b).toMatchObject({ id: 'B', truthPixels: 0, predictedPixels: 0, dice: 1, recall: null, precision: null });
  expect(report.summary.dice).toEqual({ mean: 0.7, std: expect.closeTo(0.3, 12), n: 2 });
  expect(report.summary.recall).toEqual({ mean: 0.5, std: 0, n: 1 });
  // The table goes to stderr when a report goes to stdout.
  expect(r.stderr).toMatch(/A +0\.4000 +0\.5000 +0\.3333 +40000 +60000/);
  expect(r.stderr).toMatch(/mean \+- std +0\.7000 \+- 0\.3000 +0\.5000 \+- 0\.0000 +0\.3333 \+- 0\.0000/);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  expect(lines[0]).toBe('id,slide,prediction,truth,dice,recall,precision,truth_pixels,predicted_pixels,true_positives');
  expect(lines[1]).toMatch(/^A,.*,0\.4,0\.5,0\.333\d+,40000,60000,20000$/);
  expect(lines[2]).toMatch(/^B,.*,1,,,0,0,0$/);
  expect(lines[3]).toMatch(/^mean,,,,0\.7,0\.5,0\.333\d+,,,$/);
});

test('--split keeps one split; --size changes the grid', async () => {
  const r = await runCli([
    'evaluate',
    '--dataset',
    dataset,
    '--predictions',
    predictions,
    '--split',
    'test',
    '--size',
    '512',
    '--json',
    '-',
  ]);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.slides.map((s: { id: string }) => s.id)).toEqual(['A']);
  expect(report.slides[0]).toMatchObject({ truthPixels: 10000, predictedPixels: 15000, dice: 0.4 });
});

test('--slide/--prediction/--truth triples; the table on stdout', async () => {
  const r = await runCli([
    'evaluate',
    '--slide',
    CMU_SMALL,
    '--prediction',
    path.join(predictions, 'A.geojson'),
    '--truth',
    path.join(dir, 'A.geojson'),
  ]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/CMU-1-Small-Region +0\.4000 +0\.5000 +0\.3333/);
});

test.each([
  ['no input', [], 2, /give --dataset FILE --predictions DIR, or --slide/],
  [
    'unpaired triples',
    ['--slide', CMU_SMALL, '--prediction', 'x.geojson'],
    2,
    /each --slide needs one --prediction and one --truth/,
  ],
  [
    'both kinds',
    ['--dataset', dataset, '--predictions', predictions, '--slide', CMU_SMALL],
    2,
    /either --dataset or --slide/,
  ],
  [
    'a bad size',
    ['--dataset', dataset, '--predictions', predictions, '--size', '7'],
    2,
    /--size must be a whole number between 16 and 8192/,
  ],
  [
    'a bad split',
    ['--dataset', dataset, '--predictions', predictions, '--split', 'dev'],
    2,
    /Allowed choices are train, val, test/,
  ],
  [
    'no predictions folder',
    ['--dataset', dataset, '--predictions', path.join(dir, 'none')],
    1,
    /--predictions: no such directory/,
  ],
  [
    'a prediction missing',
    ['--dataset', dataset, '--predictions', path.join(dir, 'partial')],
    1,
    /no prediction in .* for 1 slide\(s\): B \(expected <id>\.geojson\)/,
  ],
])('%s: a usage or input error, in one line', async (_what, args, code, message) => {
  const r = await runCli(['evaluate', ...args]);
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => /error:/.test(l)),
  ).toHaveLength(1);
});

test('a broken truth file fails clearly; an output never overwrites an input', async () => {
  const broken = file('broken.geojson', '{"type":');
  const r = await runCli([
    'evaluate',
    '--slide',
    CMU_SMALL,
    '--prediction',
    broken,
    '--truth',
    path.join(dir, 'A.geojson'),
  ]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/broken\.geojson is not valid JSON/);
  const truth = path.join(dir, 'A.geojson');
  const before = readFileSync(truth, 'utf8');
  const w = await runCli(['evaluate', '--dataset', dataset, '--predictions', predictions, '--csv', truth]);
  expect(w.code).toBe(2);
  expect(w.stderr).toMatch(/refusing to write over an input file/);
  expect(readFileSync(truth, 'utf8')).toBe(before);
  expect(existsSync(`${truth}.partial-${process.pid}`)).toBe(false);
});
