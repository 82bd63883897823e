/**
 * Every pipeline flag `h2g segment` takes reaches every slide of `h2g batch` (the real CLI, real slides,
 * the tiny models and an int8 set made from them by `h2g models quantize`): each slide's GeoJSON is
 * what `h2g segment` writes with the same flags, the flags are in each result's provenance, a flag
 * that changes results misses the cache and repeating it hits, a limit refuses the one slide over it
 * while the others are done, and the shard command and job script carry every flag to their tasks.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { smallSlides } from '../helpers/batch-slides';
import { entries, record, slideFile, table } from '../helpers/batch';
import { runCli } from '../helpers/cli';
import { CMU_SMALL, MODELS, PYRAMID_40X } from '../helpers/paths';

jest.setTimeout(600_000);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-batch-flags-'));
const home = path.join(tmp, 'models-home');
const env = { H2G_MODELS_HOME: home };
const cache = path.join(tmp, 'cache');
const slides = smallSlides(2);
const names = slides.map((s) => path.basename(s, '.tif'));

const batch = (out: string, flags: readonly string[], inputs: readonly string[] = slides, cacheDir = cache) =>
  runCli(
    ['batch', ...inputs, '--out-dir', path.join(tmp, out), '--cache', cacheDir, '--models', 'tiny', ...flags],
    env,
  );
const geojson = (out: string, name: string) =>
  JSON.parse(readFileSync(slideFile(path.join(tmp, out), name, `${name}.geojson`), 'utf8'));
const summary = (out: string, name: string) => record(path.join(tmp, out), name);

beforeAll(async () => {
  expect((await runCli(['models', 'import', MODELS.tiny, '--name', 'tiny'], env)).code).toBe(0);
  const q = await runCli(
    ['models', 'quantize', 'tiny', '--calibrate', slides[0]!, '--validate', CMU_SMALL, '--patches', '16', '--force'],
    env,
  );
  expect(q.stderr).not.toMatch(/h2g: error/);
  expect(q.code).toBe(0);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Flags that change results, each against the defaults (run first, so every case below misses it). */
const CASES: [string, string[], (r: ReturnType<typeof summary>) => void][] = [
  ['defaults', [], (r) => expect(r.result.provenance.keyInputs.options.reference).toBe('fast')],
  [
    '--reference h2g',
    ['--reference', 'h2g'],
    (r) => expect(r.result.provenance.keyInputs.options.reference).toBe('h2g'),
  ],
  [
    '--precision int8',
    ['--precision', 'int8'],
    (r) => {
      expect(r.result.provenance.keyInputs.models.precision).toBe('int8');
      expect(r.result.provenance.run.modelDirectory).toBe(path.join(home, 'tiny-int8'));
    },
  ],
  ['--mpp 0.6', ['--mpp', '0.6'], (r) => expect(r.result.slide.mpp).toEqual({ x: 0.6, y: 0.6 })],
  [
    '--mpp 0.04 --force-mpp',
    ['--mpp', '0.04', '--force-mpp'],
    (r) => {
      expect(r.result.provenance.keyInputs.options.mpp).toBe(0.04);
      expect(r.result.provenance.run.settings.forceMpp).toBe(true);
    },
  ],
];

describe.each(CASES)('%s', (label, flags, check) => {
  test('batch = segment per slide, the flags in provenance, a miss then a hit', async () => {
    const out = `out-${label.replace(/\W+/g, '_')}`;
    const first = await batch(out, flags);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('this run: 2 segmented (0 from the cache, 2 computed)');
    for (const [i, name] of names.entries()) {
      const single = path.join(tmp, `${out}-${name}.geojson`);
      const s = await runCli(['segment', slides[i]!, '--models', 'tiny', ...flags, '-o', single], env);
      expect(s.code).toBe(0);
      expect(geojson(out, name)).toEqual(JSON.parse(readFileSync(single, 'utf8')));
      const r = summary(out, name);
      check(r);
      expect(r.result.provenance.run.settings).toEqual(
        expect.objectContaining({ models: r.result.provenance.run.modelDirectory }),
      );
      if (label !== 'defaults') expect(geojson(out, name)).not.toEqual(geojson('out-defaults', name));
    }
    const again = await batch(out, flags);
    expect(again.stdout).toContain('this run: 2 segmented (2 from the cache, 0 computed)');
  });
});

test('--mpp outside 0.05-50 without --force-mpp: refused as by segment, before any work', async () => {
  const r = await batch('out-refused', ['--mpp', '0.04']);
  const s = await runCli(
    ['segment', slides[0]!, '--models', 'tiny', '--mpp', '0.04', '-o', path.join(tmp, 'x.geojson')],
    env,
  );
  expect(r.code).toBe(2);
  expect(s.code).toBe(2);
  expect(r.stderr).toMatch(/mpp 0\.04 um\/px is outside \[0\.05, 50\].*--force-mpp/);
  expect(r.stderr).toBe(s.stderr);
});

test('a limit refuses the slide over it (its error in the table), the others are done; limits are not in the key', async () => {
  const before = entries(cache).length;
  // The small slides are 3 x 3 patch grids; pyramid40x (0.25 um/px, 4440 x 5934) is 5 x 6.
  const r = await batch('out-limit', ['--max-grid-cells', '20'], [...slides, PYRAMID_40X]);
  expect(r.code).toBe(1);
  const rows = table(path.join(tmp, 'out-limit'));
  expect(rows.map((row) => row.status)).toEqual(['ok', 'ok', 'failed']);
  expect(rows[2]!.error).toMatch(/exceeds the limit maxGridCells = 20 .*--max-grid-cells/);
  expect(r.stderr).toContain('h2g: failed: pyramid40x: ');
  const s = await runCli(
    ['segment', PYRAMID_40X, '--models', 'tiny', '--max-grid-cells', '20', '-o', path.join(tmp, 'p.geojson')],
    env,
  );
  expect(s.code).not.toBe(0);
  expect(s.stderr).toContain(rows[2]!.error);
  // The small slides' results are the defaults' (a limit changes whether a result is made, not what it is).
  expect(r.stdout).toContain('this run: 2 segmented (2 from the cache, 0 computed), 1 failed');
  expect(entries(cache).length).toBe(before);
  expect(summary('out-limit', names[0]!).result.provenance.cacheKey).toBe(
    summary('out-defaults', names[0]!).result.provenance.cacheKey,
  );
});

test('--executor shards: every flag in the shard command and job script; a shard gives the local result', async () => {
  const flags = [
    '--reference',
    'h2g',
    '--precision',
    'int8',
    '--mpp',
    '0.04',
    '--force-mpp',
    '--batch-size',
    '4',
    '--max-grid-cells',
    '20',
    '--smoothing-um',
    '2',
    '--tissue-threshold',
    '0.4',
  ];
  const local = await batch('out-all', flags);
  expect(local.code).toBe(0);
  const shardCache = path.join(tmp, 'shard-cache');
  const r = await batch('out-shards', [...flags, '--executor', 'shards', '--shards', '1'], slides, shardCache);
  expect(r.code).toBe(0);
  const command = /^ {2}(.*) --shard <i>$/m.exec(r.stdout)![1]!;
  const dir = path.dirname(/^2 of 2 slides in 1 shards: (.*)$/m.exec(r.stdout)![1]!);
  const script = readFileSync(path.join(dir, 'job.sh'), 'utf8');
  for (const text of [command, script]) {
    for (const f of [
      '--reference h2g',
      '--precision int8',
      '--mpp 0.04',
      '--force-mpp',
      '--batch-size 4',
      '--max-grid-cells 20',
      '--smoothing-um 2',
      '--tissue-threshold 0.4',
      `--models ${path.join(home, 'tiny-int8')}`,
    ]) {
      expect(text).toContain(f);
    }
  }
  const shard = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      'sh',
      ['-c', `${command} --shard 0`],
      { env: { ...process.env, ...env, H2G_LOG_LEVEL: 'warn' } },
      (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr }),
    ),
  );
  expect(shard).toEqual({ code: 0, stderr: '' });
  for (const name of names) {
    // The same cache key (so the same settings reached the task) and the same GeoJSON as the local run.
    expect(summary('out-shards', name).result.provenance.cacheKey).toBe(
      summary('out-all', name).result.provenance.cacheKey,
    );
    expect(summary('out-shards', name).result.provenance.run.settings).toEqual(
      summary('out-all', name).result.provenance.run.settings,
    );
    expect(geojson('out-shards', name)).toEqual(geojson('out-all', name));
  }
  const report = readFileSync(path.join(tmp, 'out-all', 'report.html'), 'utf8');
  for (const cell of [
    '<td>h2g</td>',
    '<td>int8</td>',
    '<td>0.04 µm/px (given)</td>',
    '<td>accepted (--force-mpp)</td>',
    '<td>maxGridCells 20</td>',
  ]) {
    expect(report).toContain(cell);
  }
});
