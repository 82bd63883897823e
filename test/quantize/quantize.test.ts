/**
 * `h2g models quantize` as a user runs it (child processes of bin/h2g.js), on phantom slides of real
 * tissue texture with full-size models whose decisions mean something (scripts/make_fitted_models.py):
 * `planted` survives int8 rounding and is installed; `fragile` (a random backbone with a head fitted
 * on its tiny feature differences) does not, and is refused unless --force. Then the installed set is
 * used through --precision, and the failure modes install nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { BROKEN_SVS, phantomSlide } from '../helpers/paths';
import { tempDir } from '../models/helpers';
import { ensureFittedModels, ensurePhantomSlides } from '../setup/fixtures';

jest.setTimeout(900_000);

let home: string;
let env: NodeJS.ProcessEnv;
let calibrate: string;
let validate: string;
let smallA: string;
let smallB: string;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifest = (name: string) => JSON.parse(readFileSync(path.join(home, name, 'h2g-models.json'), 'utf8'));
/** What the models home holds besides installed sets: nothing may be left over from a failed run. */
const leftovers = (): string[] => readdirSync(home).filter((e) => e.startsWith('.staging') || e.startsWith('.old'));

beforeAll(async () => {
  const fitted = ensureFittedModels();
  ensurePhantomSlides([1, 2]);
  ensurePhantomSlides([4, 5], 'small');
  [calibrate, validate] = [phantomSlide(1), phantomSlide(2)];
  [smallA, smallB] = [phantomSlide(4, 'small'), phantomSlide(5, 'small')];
  home = tempDir('quantize');
  env = { H2G_MODELS_HOME: home };
  for (const [name, dir] of Object.entries(fitted)) {
    const r = await runCli(['models', 'import', dir, '--name', name], env);
    expect(r.code).toBe(0);
  }
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('a model that survives int8 rounding', () => {
  let run: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    run = await runCli(
      ['models', 'quantize', 'planted', '--calibrate', calibrate, '--validate', validate, '--patches', '64'],
      env,
    );
  });

  test('is calibrated, measured on the held-out slide and installed as planted-int8', () => {
    expect(run.stderr).toMatch(/calibration: slide 1\/1 phantom-large-1\.tif: 64 of \d+ tissue patches/);
    expect(run.code).toBe(0);
    const all = /^all +(\d+) +([\d.]+) +([\d.]+) +([\d.]+) +(\d+) \(([\d.]+)%\) +([\d.]+)$/m.exec(run.stdout);
    expect(all).not.toBeNull();
    const [patches, p50, p95, max, , , dice] = all!.slice(1).map(Number);
    expect(patches).toBeGreaterThan(40);
    expect(p50).toBeLessThanOrEqual(p95!);
    expect(p95).toBeLessThanOrEqual(max!);
    expect(max).toBeGreaterThan(0); // int8 really ran: the heatmaps differ
    expect(dice).toBeGreaterThanOrEqual(0.99);
    expect(run.stdout).toMatch(
      /patch model speed here \(batch 16, .*\): float32 [\d.]+ patches\/s, int8 [\d.]+ patches\/s/,
    );
    expect(run.stdout).toContain(`installed model set 'planted-int8' in ${path.join(home, 'planted-int8')}`);
    expect(leftovers()).toEqual([]);
  });

  test('its manifest records the float32 set, the slides by digest, the method and the agreement', () => {
    const source = manifest('planted');
    const m = manifest('planted-int8');
    expect(m.precision).toBe('int8');
    expect(m.quantization.quantizedFrom).toEqual({
      set: 'planted',
      patchSha256: source.files.patch.sha256,
      refinementSha256: source.files.refinement.sha256,
    });
    expect(m.quantization.calibration).toEqual({
      patches: 64,
      slides: [{ file: path.basename(calibrate), sha256: sha256(calibrate), patches: 64 }],
    });
    expect(m.quantization.agreement.slides).toEqual([
      { file: path.basename(validate), sha256: sha256(validate), patches: expect.any(Number) },
    ]);
    expect(m.quantization.agreement.maskDice).toBeGreaterThanOrEqual(0.99);
    expect(m.quantization.agreement.forced).toBe(false);
    expect(m.quantization.method).toMatch(/static QDQ, per-channel symmetric int8 weights.*uint8 activations/);
    expect(m.quantization.tool).toMatch(/^onnxruntime 1\.\d+\.\d+ /);
    // The refinement network is the float32 set's, byte for byte; the patch model is a different, int8 file.
    expect(m.files.refinement.sha256).toBe(source.files.refinement.sha256);
    const int8 = readFileSync(path.join(home, 'planted-int8', m.files.patch.file));
    expect(int8.includes(Buffer.from('DequantizeLinear'))).toBe(true);
    expect(int8.length).toBeLessThan(source.files.patch.size / 2);
  });

  test('verify re-checks it; list shows its precision and origin; a copy imported elsewhere keeps its record', async () => {
    expect((await runCli(['models', 'verify', 'planted-int8'], env)).stdout).toMatch(/^OK {4}planted-int8/);
    const list = JSON.parse((await runCli(['models', 'list', '--json'], env)).stdout);
    expect(list.sets.map((s: { name: string; precision: string }) => [s.name, s.precision])).toEqual([
      ['fragile', 'float32'],
      ['planted', 'float32'],
      ['planted-int8', 'int8'],
    ]);
    const text = (await runCli(['models', 'list'], env)).stdout;
    expect(text).toMatch(/precision: {2}int8 \(quantized from 'planted'; refined-mask Dice against it 0\.99\d\d\)/);
    const other = tempDir('quantize-import');
    try {
      const r = await runCli(['models', 'import', path.join(home, 'planted-int8'), '--name', 'copy'], {
        H2G_MODELS_HOME: other,
      });
      expect(r.code).toBe(0);
      const copy = JSON.parse(readFileSync(path.join(other, 'copy', 'h2g-models.json'), 'utf8'));
      expect(copy.precision).toBe('int8');
      expect(copy.quantization).toEqual(manifest('planted-int8').quantization);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('--precision picks the sibling either way, and the GeoJSON says which precision made it', async () => {
    const out = path.join(home, 'out.geojson');
    const meta = async (args: string[]) => {
      const r = await runCli(['segment', smallA, '-o', out, ...args], env);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      return JSON.parse(readFileSync(out, 'utf8')).metadata as Record<string, string>;
    };
    const int8 = await meta(['--models', 'planted', '--precision', 'int8']);
    expect(int8).toMatchObject({
      'h2gnet.model_set': 'planted-int8',
      'h2gnet.precision': 'int8',
      'h2gnet.quantized_from_sha256': manifest('planted').files.patch.sha256,
      'h2gnet.patch_model_sha256': manifest('planted-int8').files.patch.sha256,
    });
    const back = await meta(['--models', 'planted-int8', '--precision', 'float32']);
    expect(back).toMatchObject({ 'h2gnet.model_set': 'planted', 'h2gnet.precision': 'float32' });
    expect(back['h2gnet.quantized_from_sha256']).toBeUndefined();
    expect(await meta(['--models', 'planted'])).toMatchObject({ 'h2gnet.precision': 'float32' });
    expect(await meta(['--models', 'planted-int8'])).toMatchObject({ 'h2gnet.precision': 'int8' });
  });

  test('a set without an int8 sibling says how to make one', async () => {
    const r = await runCli(['segment', smallA, '-o', '-', '--models', 'fragile', '--precision', 'int8'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no int8 model set made from 'fragile' is installed");
    expect(r.stderr).toContain('h2g models quantize fragile --calibrate');
  });
});

describe('a model whose int8 results do not agree', () => {
  const args = () => ['models', 'quantize', 'fragile', '--calibrate', smallA, '--validate', smallB, '--patches', '16'];

  test('is refused with the table printed, and nothing is installed', async () => {
    const r = await runCli(args(), env);
    expect(r.code).toBe(1);
    const dice = Number(/^all .* ([\d.]+)$/m.exec(r.stdout)?.[1]);
    expect(dice).toBeLessThan(0.99);
    expect(r.stdout).toContain('does NOT agree well enough');
    expect(r.stderr).toMatch(/h2g: error: not installed: .* Dice [\d.]+, below 0\.99 .*--force/);
    expect(existsSync(path.join(home, 'fragile-int8'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  test('--force installs it anyway and the manifest says so', async () => {
    const r = await runCli([...args(), '--force', '--name', 'fragile-forced'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('installed with --force although the agreement is below the threshold');
    const a = manifest('fragile-forced').quantization.agreement;
    expect(a.forced).toBe(true);
    expect(a.maskDice).toBeLessThan(0.99);
  });
});

describe('bad requests install nothing', () => {
  const quantize = (...extra: string[]) => runCli(['models', 'quantize', ...extra], env);

  const cases: [string, () => string[], RegExp][] = [
    [
      'the same slide to calibrate and validate',
      () => ['planted', '--calibrate', smallA, '--validate', smallA],
      /also a calibration slide/,
    ],
    ['one slide and no --validate', () => ['planted', '--calibrate', smallA], /give --validate/],
    ['an int8 set', () => ['planted-int8', '--calibrate', smallA, '--validate', smallB], /already an int8 set/],
    [
      'a name that replaces the source',
      () => ['planted', '--name', 'planted', '--calibrate', smallA, '--validate', smallB],
      /would replace the float32 set/,
    ],
    [
      'a missing slide',
      () => ['planted', '--calibrate', '/nonexistent.svs', '--validate', smallB],
      /calibration slide not found/,
    ],
    [
      'too few patches',
      () => ['planted', '--patches', '3', '--calibrate', smallA, '--validate', smallB],
      /--patches must be/,
    ],
  ];
  test.each(cases)('%s: usage error, exit 2', async (_what, args, message) => {
    const r = await quantize(...args());
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(leftovers()).toEqual([]);
  });

  test('a corrupt calibration slide: exit 1, the reason, nothing installed', async () => {
    const r = await quantize('planted', '--name', 'broken-int8', '--calibrate', BROKEN_SVS, '--validate', smallB);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/h2g: error: .*broken\.svs/);
    expect(existsSync(path.join(home, 'broken-int8'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  test('no Python with onnxruntime: exit 1 saying how to set it up, nothing installed', async () => {
    const r = await runCli(
      [
        'models',
        'quantize',
        'planted',
        '--name',
        'nopy-int8',
        '--calibrate',
        smallA,
        '--validate',
        smallB,
        '--patches',
        '16',
      ],
      { ...env, H2G_QUANTIZE_PYTHON: '/nonexistent/python' },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/python not found');
    expect(r.stderr).toContain('bash scripts/setup-python.sh');
    expect(existsSync(path.join(home, 'nopy-int8'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});
