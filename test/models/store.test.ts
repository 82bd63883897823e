/**
 * Import, verify and the cache's bookkeeping: the same checks as a download, corrupted files caught
 * after install, and stale entries from a killed install cleaned up without touching live ones.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { ModelError } from '../../src/models/errors';
import { importModels } from '../../src/models/import';
import { MANIFEST_FILE, readManifest } from '../../src/models/manifest';
import { loadModelSet } from '../../src/models/model-set';
import { cleanupStale, commitStaging, listInstalledSets, readInstalledSet } from '../../src/models/store';
import { verifyInstalledSet } from '../../src/models/verify';
import { FOREIGN_ONNX } from '../helpers/paths';
import { homeEntries, makeModels, PATCH, REFINEMENT, removeDirs, tempDir } from './helpers';

const CPU = { provider: 'cpu' as const, threads: 1 };
let tiny: string;
let home: string;

beforeAll(() => {
  tiny = makeModels('tiny');
});
afterAll(() => removeDirs(tiny));
beforeEach(() => {
  home = tempDir('home');
});
afterEach(() => removeDirs(home));

async function rejection(promise: Promise<unknown>): Promise<ModelError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  return err as ModelError;
}

async function verify(name: string) {
  const set = await readInstalledSet(home, name);
  expect(set).not.toBeNull();
  return verifyInstalledSet(set!);
}

describe('import', () => {
  test('a folder with other file names (FastPathology naming) is recognised by the contract', async () => {
    const src = tempDir('fast');
    copyFileSync(path.join(tiny, PATCH), path.join(src, 'pw_tumour_mobilenetv2_model.onnx'));
    copyFileSync(path.join(tiny, REFINEMENT), path.join(src, 'unet_tumour_refinement_model_fix-opset9.onnx'));
    const r = await importModels([src], { home, name: 'fast' });
    expect(r.manifest).toMatchObject({ name: 'fast', demo: false, source: `import:${src}` });
    // Installed under the published names, byte for byte.
    expect(readFileSync(path.join(home, 'fast', PATCH)).equals(readFileSync(path.join(tiny, PATCH)))).toBe(true);
    expect(r.warnings).toEqual([]);
    expect((await verify('fast')).ok).toBe(true);
    removeDirs(src);
  });

  test('two files given in any order', async () => {
    const r = await importModels([path.join(tiny, REFINEMENT), path.join(tiny, PATCH)], { home, name: 'x' });
    expect(r.files.patch.size).toBe(readFileSync(path.join(tiny, PATCH)).length);
    // The published refinement name with another size earns a warning, not a refusal.
    expect(r.warnings.join()).toMatch(/has 17,918 bytes, the published file 46,313,140/);
  });

  test('a foreign ONNX model is refused with what was expected and found', async () => {
    const err = await rejection(importModels([FOREIGN_ONNX, path.join(tiny, REFINEMENT)], { home, name: 'x' }));
    expect(err.code).toBe('MODEL_CONTRACT');
    expect(err.message).toMatch(/is neither H2G-Net model: .*expected one float32 input NHWC \[N,256,256,3\]/);
    expect(homeEntries(home)).toEqual([]);
  });

  test('two patch classifiers and no refinement network are refused', async () => {
    const err = await rejection(importModels([path.join(tiny, PATCH), path.join(tiny, PATCH)], { home, name: 'x' }));
    expect(err.message).toMatch(/expected exactly one H2G-Net patch classifier, found 2/);
  });

  test('a truncated file is refused and nothing is installed', async () => {
    const src = tempDir('trunc');
    copyFileSync(path.join(tiny, PATCH), path.join(src, PATCH));
    writeFileSync(path.join(src, REFINEMENT), readFileSync(path.join(tiny, REFINEMENT)).subarray(0, 9000));
    const err = await rejection(importModels([src], { home, name: 'x' }));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toMatch(/onnxruntime cannot load .*refinement_network_breast_cancer\.onnx/);
    expect(homeEntries(home)).toEqual([]);
    removeDirs(src);
  });

  test("a source folder's manifest digests are checked", async () => {
    await importModels([tiny], { home, name: 'a' });
    const src = path.join(home, 'a');
    const m = JSON.parse(readFileSync(path.join(src, MANIFEST_FILE), 'utf8'));
    m.files.patch.sha256 = '0'.repeat(64);
    writeFileSync(path.join(src, MANIFEST_FILE), JSON.stringify(m));
    const err = await rejection(importModels([src], { home, name: 'b' }));
    expect(err.code).toBe('MODEL_DIGEST');
    expect(await readInstalledSet(home, 'b')).toBeNull();
  });

  test('an invalid set name is refused before anything is written', async () => {
    const err = await rejection(importModels([tiny], { home, name: '../escape' }));
    expect(err.message).toMatch(/is not a model set name/);
    expect(homeEntries(home)).toEqual([]);
  });
});

describe('verify after install', () => {
  beforeEach(async () => {
    await importModels([tiny], { home, name: 'good' });
    await importModels([tiny], { home, name: 'bad' });
  });

  test('flipped bytes: verify and load refuse the set, the other set still loads', async () => {
    const file = path.join(home, 'bad', REFINEMENT);
    const data = readFileSync(file);
    data.writeUInt8(data.readUInt8(5000) ^ 0xff, 5000);
    writeFileSync(file, data);
    const r = await verify('bad');
    expect(r.ok).toBe(false);
    expect(r.problem).toMatch(/has SHA-256 [0-9a-f]{64} but its manifest says [0-9a-f]{64} \(corrupted or replaced\)/);
    const err = await rejection(loadModelSet(path.join(home, 'bad'), CPU));
    expect(err.code).toBe('MODEL_DIGEST');
    expect((await verify('good')).ok).toBe(true);
    await (await loadModelSet(path.join(home, 'good'), CPU)).release();
  });

  test('a truncated file and a missing file are named', async () => {
    const file = path.join(home, 'bad', PATCH);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    expect((await verify('bad')).problem).toMatch(/has 100 bytes but its manifest says \d+ \(truncated or replaced\)/);
    removeDirs(file);
    expect((await verify('bad')).problem).toMatch(/the patch model file is missing/);
  });

  test('a manifest without digests does not pass verify', async () => {
    const { manifest } = await readManifest(path.join(home, 'bad'));
    delete manifest.files.refinement.sha256;
    writeFileSync(path.join(home, 'bad', MANIFEST_FILE), JSON.stringify(manifest));
    expect((await verify('bad')).problem).toMatch(/records no size or SHA-256 for refinement_network/);
  });

  test('a manifest that is not JSON is listed with its problem', async () => {
    writeFileSync(path.join(home, 'bad', MANIFEST_FILE), '{');
    const sets = await listInstalledSets(home);
    expect(sets.map((s) => s.name)).toEqual(['bad', 'good']);
    expect(sets[0]!.problem).toMatch(/is not valid JSON/);
    expect((await verify('bad')).ok).toBe(false);
  });
});

describe('bookkeeping', () => {
  test('entries of a killed install are removed; a set caught between renames is restored', async () => {
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max default: never a live process
    await importModels([tiny], { home, name: 'kept' });
    mkdirSync(path.join(home, `.staging-${deadPid}-abc123`));
    writeFileSync(path.join(home, `.staging-${deadPid}-abc123`, PATCH), 'half');
    // "published" was moved aside and its replacement never arrived.
    await commitStaging(home, path.join(home, 'kept'), 'x');
    await rename(path.join(home, 'x'), path.join(home, `.old-published-${deadPid}-def456`));
    const live = path.join(home, `.staging-${process.pid}-fff000`);
    mkdirSync(live);
    await cleanupStale(home);
    const entries = homeEntries(home).filter((e) => !e.includes('/'));
    expect(entries).toEqual([`.staging-${process.pid}-fff000`, 'published']);
    expect((await verify('published')).ok).toBe(true);
  });
});
