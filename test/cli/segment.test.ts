/** `h2g segment` end to end: its files, its summary, and a clear error with a non-zero exit for bad input. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { sha256File } from '../../src/models/digest';
import { PUBLISHED_FILES } from '../../src/models/manifest';
import { VERSION } from '../../src/version';
import { runCli } from '../helpers/cli';
import { readNpy } from '../helpers/npy';
import { BROKEN_SVS, CMU_SMALL, FOREIGN_ONNX, MODELS, NO_MPP_TIFF, SHAPES_TIFF } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-cli-'));
const out = (name: string) => path.join(tmp, name);

describe('h2g segment on the shapes slide with the oracle models', () => {
  let stdout = '';
  beforeAll(async () => {
    const r = await runCli([
      'segment',
      SHAPES_TIFF,
      '--models',
      MODELS.oracle,
      '--out',
      out('s.geojson'),
      '--save-heatmap',
      out('s.npy'),
      '--save-mask',
      out('s-mask.png'),
      '--overlay',
      out('s-overlay.png'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    stdout = r.stdout;
  });

  test('GeoJSON: Tumor annotations with area and provenance that QuPath reads as they are', async () => {
    const fc = JSON.parse(readFileSync(out('s.geojson'), 'utf8'));
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features).toHaveLength(4);
    const patchSha = await sha256File(path.join(MODELS.oracle, PUBLISHED_FILES.patch));
    const refinementSha = await sha256File(path.join(MODELS.oracle, PUBLISHED_FILES.refinement));
    for (const f of fc.features) {
      expect(f.geometry.type).toBe('Polygon');
      expect(f.properties.objectType).toBe('annotation');
      expect(f.properties.classification).toEqual({ name: 'Tumor', color: [200, 0, 0] });
      expect(f.properties.measurements['Area µm^2']).toBeGreaterThan(1000);
      const meta = f.properties.metadata;
      expect(meta['h2gnet.patch_model_sha256']).toBe(patchSha);
      expect(meta['h2gnet.refinement_model_sha256']).toBe(refinementSha);
      expect(meta['h2gnet.pipeline_version']).toBe(VERSION);
      expect(meta['h2gnet.param.tissueThreshold']).toBe('0.5');
      expect(Object.values(meta).every((v) => typeof v === 'string')).toBe(true);
      for (const ring of f.geometry.coordinates) expect(ring[0]).toEqual(ring[ring.length - 1]);
    }
    expect(fc.metadata['h2gnet.patch_model_sha256']).toBe(patchSha);
  });

  test('heatmap .npy is float32 [rows, cols] of the 10x grid with probabilities', () => {
    const heat = readNpy(out('s.npy'));
    expect(heat.shape).toEqual([6, 8]); // 8192 x 6144 at 40x -> 2048 x 1536 at 10x
    expect(heat.data).toBeInstanceOf(Float32Array);
    expect(Array.from(heat.data).every((v) => v > 0 && v < 1)).toBe(true);
  });

  test('mask PNG is 1024 x 1024 8-bit with only 0 and 255; overlay PNG is the low-resolution level', () => {
    const mask = PNG.sync.read(readFileSync(out('s-mask.png')));
    expect([mask.width, mask.height]).toEqual([1024, 1024]);
    const values = new Set<number>();
    for (let i = 0; i < mask.data.length; i += 4) values.add(mask.data[i]!);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    const overlay = PNG.sync.read(readFileSync(out('s-overlay.png')));
    expect([overlay.width, overlay.height]).toEqual([1024, 768]);
  });

  test('summary: patches, tumour area, share of tissue, time per stage', () => {
    expect(stdout).toMatch(/patches inferred: 48 of 48 \(grid 6 x 8\)/);
    expect(stdout).toMatch(/tumour regions: +4/);
    expect(stdout).toMatch(/tumour area: +\d+\.\d+ mm\^2 \(\d+\.\d% of 3\.146 mm\^2 tissue\)/);
    expect(stdout).toMatch(/tissue \d+\.\d+ s, patches \d+\.\d+ s, refinement \d+\.\d+ s, polygons \d+\.\d+ s/);
  });

  test('--out - writes the GeoJSON to stdout and the summary to stderr', async () => {
    const r = await runCli(['segment', SHAPES_TIFF, '--models', MODELS.oracle, '--out', '-']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).features).toHaveLength(4);
    expect(r.stderr).toMatch(/patches inferred/);
  });
});

describe('a slide without pixel size', () => {
  test('fails with a message that asks for --mpp', async () => {
    const r = await runCli(['segment', NO_MPP_TIFF, '--models', MODELS.tiny, '--out', out('n.geojson')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no pixel size; give it explicitly \(CLI: --mpp <um\/px>/);
  });

  test('works with --mpp', async () => {
    const r = await runCli([
      'segment',
      NO_MPP_TIFF,
      '--models',
      MODELS.tiny,
      '--mpp',
      '0.25',
      '--out',
      out('n.geojson'),
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out('n.geojson'), 'utf8')).features[0].properties.metadata['h2gnet.mpp']).toBe(
      '0.25,0.25',
    );
  });
});

describe('bad input: one readable line, no stack trace, non-zero exit', () => {
  const wrongModels = path.join(tmp, 'wrong-models');
  beforeAll(() => {
    mkdirSync(wrongModels);
    copyFileSync(FOREIGN_ONNX, path.join(wrongModels, PUBLISHED_FILES.patch));
    copyFileSync(
      path.join(MODELS.tiny, PUBLISHED_FILES.refinement),
      path.join(wrongModels, PUBLISHED_FILES.refinement),
    );
  });

  test.each([
    ['missing slide', ['/no/such.svs'], 1, /slide not found: \/no\/such\.svs/],
    ['corrupt slide', [BROKEN_SVS], 1, /does not recognise .*broken\.svs/],
    ['unsupported file', [path.join(__dirname, 'segment.test.ts')], 1, /does not recognise/],
    ['missing model directory', [CMU_SMALL, '--models', '/no/models/'], 1, /not found|no model/i],
    [
      'a model with the wrong inputs',
      [CMU_SMALL, '--models', wrongModels],
      1,
      /is not an H2G-Net patch classifier: expected one float32 input NHWC \[N,256,256,3\].*found inputs input float32 \[batch_size,3,224,224\]/,
    ],
    [
      'tissue threshold out of range',
      [CMU_SMALL, '--tissue-threshold', '0'],
      2,
      /--tissue-threshold must be a number between/,
    ],
    ['batch size zero', [CMU_SMALL, '--batch-size', '0'], 2, /--batch-size must be a whole number/],
    ['unknown provider', [CMU_SMALL, '--provider', 'tpu'], 2, /argument 'tpu' is invalid.*cpu, webgpu, cuda/],
    ['pixel size not a number', [CMU_SMALL, '--mpp', 'abc'], 2, /--mpp must be a number/],
    [
      'unknown rule set',
      [CMU_SMALL, '--reference', 'fastpath'],
      2,
      /argument 'fastpath' is invalid.*fast, fast-exact, h2g/,
    ],
    ['roi that is not GeoJSON', [CMU_SMALL, '--roi', FOREIGN_ONNX], 2, /roi is not valid JSON/],
  ])('%s', async (_name, args, code, message) => {
    const r = await runCli([
      'segment',
      ...args,
      '--out',
      out('bad.geojson'),
      ...(args.includes('--models') ? [] : ['--models', MODELS.tiny]),
    ]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test('--verbose adds the stack trace', async () => {
    const r = await runCli([
      '--verbose',
      'segment',
      '/no/such.svs',
      '--models',
      MODELS.tiny,
      '--out',
      out('bad.geojson'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  test('missing --out is a usage error', async () => {
    const r = await runCli(['segment', CMU_SMALL, '--models', MODELS.tiny]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option '-o, --out <file>' not specified/);
  });
});
