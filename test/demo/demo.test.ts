/**
 * `h2g demo` end to end, offline: a generated slide, generated untrained weights, the real pipeline;
 * outputs checked for validity, stated sizes and loud demo markings.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FeatureCollection, Polygon } from 'geojson';
import { PNG } from 'pngjs';
import { ensureDemoSet } from '../../src/models/demo-set';
import { ModelError } from '../../src/models/errors';
import { importModels } from '../../src/models/import';
import { readManifest } from '../../src/models/manifest';
import { resolveModelDirectory } from '../../src/models/select';
import { OpenSlide } from '../../src/slide/openslide';
import { CMU_SMALL } from '../helpers/paths';
import { makeModels, removeDirs, tempDir } from '../models/helpers';

const execFileAsync = promisify(execFile);
const TS_RUN = path.join(__dirname, 'ts-run.js');

/** `h2g demo ...` in its own Node process, as a user runs it; resolves with stdout, rejects on exit != 0. */
async function demoCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [TS_RUN, 'demo', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 280_000,
    maxBuffer: 16 << 20,
  });
  return stdout;
}

let home: string;
let out: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  home = tempDir('demo-home');
  out = tempDir('demo-out');
  env = { H2G_MODELS_HOME: home, H2G_LOG_LEVEL: 'warn' };
});
afterAll(() => removeDirs(home, out));

async function slideSize(file: string): Promise<{ width: number; height: number }> {
  const slide = await OpenSlide.open(file);
  try {
    return { width: slide.width, height: slide.height };
  } finally {
    await slide.close();
  }
}

/** Valid GeoJSON a QuPath user can import, marked as demo output at collection and feature level. */
async function checkGeojson(file: string, slide: string): Promise<FeatureCollection> {
  const fc = JSON.parse(readFileSync(file, 'utf8')) as FeatureCollection & { metadata: Record<string, string> };
  expect(fc.type).toBe('FeatureCollection');
  expect(Array.isArray(fc.features)).toBe(true);
  expect(fc.metadata['h2gnet.demo_weights']).toBe('true');
  expect(fc.metadata['h2gnet.warning']).toMatch(/UNTRAINED DEMO WEIGHTS: these regions mean nothing clinically/);
  const { width, height } = await slideSize(slide);
  for (const f of fc.features) {
    expect(f.type).toBe('Feature');
    expect(f.geometry.type).toBe('Polygon');
    expect(f.properties).toMatchObject({
      objectType: 'annotation',
      classification: { name: 'Tumor' },
      metadata: { 'h2gnet.demo_weights': 'true', 'h2gnet.model_set': 'demo' },
    });
    for (const ring of (f.geometry as Polygon).coordinates) {
      expect(ring.length).toBeGreaterThanOrEqual(4);
      expect(ring[0]).toEqual(ring[ring.length - 1]); // closed
      for (const [x, y] of ring as [number, number][]) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(width);
        expect(y).toBeLessThanOrEqual(height);
      }
    }
  }
  return fc;
}

/** The overlay decodes as a PNG of exactly the size the demo printed. */
function checkOverlay(stdout: string, file: string): { width: number; height: number } {
  const stated = new RegExp(`wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (\\d+) x (\\d+) px`).exec(stdout);
  expect(stated).not.toBeNull();
  const png = PNG.sync.read(readFileSync(file));
  expect([png.width, png.height]).toEqual([Number(stated![1]), Number(stated![2])]);
  return { width: png.width, height: png.height };
}

function checkLoud(stdout: string): void {
  // Before and after the results, so it is on screen whichever end the user reads.
  expect(stdout.match(/DEMO ONLY: UNTRAINED WEIGHTS/g)).toHaveLength(2);
  expect(stdout).toMatch(/MEAN NOTHING CLINICALLY/);
  expect(stdout).toMatch(/^WARNING: UNTRAINED DEMO WEIGHTS/m);
  expect(stdout).toMatch(/h2g models pull\n {2}h2g segment your-slide\.svs/);
}

describe('h2g demo', () => {
  test('fresh clone path: synthetic slide, generated weights, GeoJSON and overlay', async () => {
    const first = await demoCli(['--synthetic', '--out', out, '--threads', '2'], env);
    checkLoud(first);
    expect(first).toContain(`generated ${path.join(home, 'demo')}`);
    expect(first).toMatch(/slide: .*demo-slide-synthetic\.tif \(synthetic, 3072 x 2304 px at 0\.500 um\/px\)/);
    const slide = path.join(out, 'demo-slide-synthetic.tif');
    expect(await slideSize(slide)).toEqual({ width: 3072, height: 2304 });
    await checkGeojson(path.join(out, 'demo.geojson'), slide);
    const size = checkOverlay(first, path.join(out, 'demo-overlay.png'));
    expect(Math.max(size.width, size.height)).toBeGreaterThanOrEqual(288); // at least the lowest level

    const { manifest } = await readManifest(path.join(home, 'demo'));
    expect(manifest).toMatchObject({ name: 'demo', demo: true, source: 'generated' });
    expect(manifest.description).toMatch(/UNTRAINED/);
    // Installed demo weights never become the default for real slides.
    await expect(resolveModelDirectory({ env })).rejects.toThrow(/Only demo weights are installed/);
  }, 300_000);

  test("a slide of the user's own (the CMU sample when present), reusing the installed demo set", async () => {
    // A fresh clone has no shared data: then the synthetic slide from the first run stands in.
    const input = existsSync(CMU_SMALL) ? CMU_SMALL : path.join(out, 'demo-slide-synthetic.tif');
    const out2 = path.join(out, 'second');
    const stdout = await demoCli([input, '--out', out2, '--threads', '2'], env);
    expect(stdout).toContain(`reusing ${path.join(home, 'demo')}`);
    expect(stdout).toContain(`slide: ${input}`);
    checkLoud(stdout);
    const fc = await checkGeojson(path.join(out2, 'demo.geojson'), input);
    expect(stdout).toContain(`${fc.features.length} "Tumor" regions`);
    checkOverlay(stdout, path.join(out2, 'demo-overlay.png'));
  }, 300_000);
});

describe('the demo model set', () => {
  test('a damaged demo set is regenerated; a user set called demo is never overwritten', async () => {
    const h = tempDir('demo-set');
    const first = await ensureDemoSet(h, env);
    expect(first.generated).toBe(true);
    expect((await ensureDemoSet(h, env)).generated).toBe(false);
    const file = path.join(first.directory, 'refinement_network_breast_cancer.onnx');
    const data = readFileSync(file);
    data.writeUInt8(data.readUInt8(1000) ^ 0xff, 1000);
    writeFileSync(file, data);
    expect((await ensureDemoSet(h, env)).generated).toBe(true);

    const own = tempDir('own');
    const tiny = makeModels('tiny');
    await importModels([tiny], { home: own, name: 'demo' });
    const err = await ensureDemoSet(own, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/holds a model set named 'demo' that is not demo weights/);
    removeDirs(h, own, tiny);
  });

  test('without python the error says what to install', async () => {
    const h = tempDir('demo-nopy');
    const err = await ensureDemoSet(h, { ...env, H2G_PYTHON: '/nonexistent/python3' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/\/nonexistent\/python3 not found[\s\S]*apt-get install python3-onnx/);
    removeDirs(h);
  });
});

describe('scripts/make-demo-slide.js', () => {
  (existsSync(CMU_SMALL) ? test : test.skip)('turns the CMU sample into a calibrated pyramidal TIFF', async () => {
    const dir = tempDir('slide');
    const file = path.join(dir, 'cmu.tif');
    const { stdout } = await execFileAsync(process.execPath, [
      path.join(__dirname, '..', '..', 'scripts', 'make-demo-slide.js'),
      '--out',
      file,
    ]);
    expect(JSON.parse(stdout)).toEqual({
      file,
      source: CMU_SMALL,
      width: 2220,
      height: 2967,
      mppX: expect.closeTo(0.499, 4),
    });
    const slide = await OpenSlide.open(file);
    try {
      expect(slide.vendor).toBe('generic-tiff');
      expect(slide.levels.length).toBeGreaterThanOrEqual(3);
      expect(slide.levels[1]).toMatchObject({ width: 1110 });
      expect(slide.pixelSize!.x).toBeCloseTo(0.499, 3);
    } finally {
      await slide.close();
    }
    removeDirs(dir);
  });
});
